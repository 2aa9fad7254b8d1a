// Every registered model as data: one row per variant. Families: the tutorial's ResNeXt,
// torchvision's ResNet/ResNeXt/Wide ResNet, the paper's Table 3/4 variants, CIFAR ResNeXt-29.

/** The architecture family a row builds. */
export type Family = 'tutorial' | 'torchvision' | 'paper' | 'cifar';

/** One model variant. */
export interface ModelVariant {
  name: string;
  family: Family;
  description: string;
  /** Blocks per stage. */
  layers: number[];
  block: 'basic' | 'bottleneck';
  groups: number;
  /** Channels per group in stage 1 (torchvision's width_per_group; the tutorial: inner width / groups). */
  widthPerGroup: number;
  /** Input [C, H, W] the model is meant for (mult-adds are reported per such image). */
  inputSize: [number, number, number];
  numClasses: number;
  /** Stem width and stage-1 planes (torchvision: 64). */
  basePlanes: number;
}

const imagenet: [number, number, number] = [3, 224, 224];
const cifar: [number, number, number] = [3, 32, 32];

function row<N extends string>(
  name: N,
  family: Family,
  description: string,
  block: 'basic' | 'bottleneck',
  layers: number[],
  groups = 1,
  widthPerGroup = 64,
  inputSize = imagenet,
  numClasses = 1000,
  basePlanes = 64,
): ModelVariant & { name: N } {
  return { name, family, description, layers, block, groups, widthPerGroup, inputSize, numClasses, basePlanes };
}

const R50 = [3, 4, 6, 3],
  R101 = [3, 4, 23, 3];

/** The rows, in the order `resnext models` lists them (names kept as literal types). */
const ROWS = [
  row(
    'resnext50',
    'tutorial',
    "The tutorial's ResNeXt-50 (32 groups, expansion 2, stride on the first 1x1)",
    'bottleneck',
    R50,
    32,
    4,
  ),
  row(
    'resnext101',
    'tutorial',
    "The tutorial's ResNeXt-101 (32 groups, expansion 2, stride on the first 1x1)",
    'bottleneck',
    R101,
    32,
    4,
  ),
  row(
    'resnext_tiny',
    'tutorial',
    "A tiny ResNeXt in the tutorial's layout: one block per stage, 4 groups of 2 (tests, quick experiments)",
    'bottleneck',
    [1, 1, 1, 1],
    4,
    2,
  ),
  row('resnet18', 'torchvision', 'ResNet-18 (basic blocks)', 'basic', [2, 2, 2, 2]),
  row('resnet34', 'torchvision', 'ResNet-34 (basic blocks)', 'basic', [3, 4, 6, 3]),
  row('resnet50', 'torchvision', 'ResNet-50 (Table 1 baseline; = ResNeXt-50 1x64d)', 'bottleneck', R50),
  row('resnet101', 'torchvision', 'ResNet-101 (Table 4 reference; = ResNeXt-101 1x64d)', 'bottleneck', R101),
  row('resnet152', 'torchvision', 'ResNet-152', 'bottleneck', [3, 8, 36, 3]),
  row('resnet200', 'torchvision', 'ResNet-200 (Table 4: deeper)', 'bottleneck', [3, 24, 36, 3]),
  row('resnext50_32x4d', 'torchvision', 'ResNeXt-50 32x4d (Table 1, Table 3)', 'bottleneck', R50, 32, 4),
  row('resnext101_32x8d', 'torchvision', 'ResNeXt-101 32x8d', 'bottleneck', R101, 32, 8),
  row('resnext101_64x4d', 'torchvision', 'ResNeXt-101 64x4d (Table 4: more groups)', 'bottleneck', R101, 64, 4),
  row('wide_resnet50_2', 'torchvision', 'Wide ResNet-50-2 (bottleneck twice as wide)', 'bottleneck', R50, 1, 128),
  row('wide_resnet101_2', 'torchvision', 'Wide ResNet-101-2', 'bottleneck', R101, 1, 128),
  row('resnext50_1x64d', 'paper', 'ResNeXt-50 1x64d (Table 3; the ResNet-50 architecture)', 'bottleneck', R50, 1, 64),
  row('resnext50_2x40d', 'paper', 'ResNeXt-50 2x40d (Table 3)', 'bottleneck', R50, 2, 40),
  row('resnext50_4x24d', 'paper', 'ResNeXt-50 4x24d (Table 3)', 'bottleneck', R50, 4, 24),
  row('resnext50_8x14d', 'paper', 'ResNeXt-50 8x14d (Table 3)', 'bottleneck', R50, 8, 14),
  row(
    'resnext101_1x64d',
    'paper',
    'ResNeXt-101 1x64d (Table 3; the ResNet-101 architecture)',
    'bottleneck',
    R101,
    1,
    64,
  ),
  row('resnext101_2x40d', 'paper', 'ResNeXt-101 2x40d (Table 3)', 'bottleneck', R101, 2, 40),
  row('resnext101_4x24d', 'paper', 'ResNeXt-101 4x24d (Table 3)', 'bottleneck', R101, 4, 24),
  row('resnext101_8x14d', 'paper', 'ResNeXt-101 8x14d (Table 3)', 'bottleneck', R101, 8, 14),
  row('resnext101_32x4d', 'paper', 'ResNeXt-101 32x4d (Table 3, Table 4 reference)', 'bottleneck', R101, 32, 4),
  row('resnet101_1x100d', 'paper', 'ResNet-101, wider: 1x100d (Table 4)', 'bottleneck', R101, 1, 100),
  row('resnext101_2x64d', 'paper', 'ResNeXt-101 2x64d (Table 4)', 'bottleneck', R101, 2, 64),
  row('resnext29_8x64d', 'cifar', 'CIFAR ResNeXt-29 8x64d (Table 7)', 'bottleneck', [3, 3, 3], 8, 64, cifar, 10),
  row('resnext29_16x64d', 'cifar', 'CIFAR ResNeXt-29 16x64d (Table 7)', 'bottleneck', [3, 3, 3], 16, 64, cifar, 10),
  row(
    'resnext_small',
    'cifar',
    'A light CIFAR-style ResNeXt for 28x28/32x32 images on a CPU: 3 stages of 1 block, 4 groups, widths 16/32/64',
    'bottleneck',
    [1, 1, 1],
    4,
    16,
    cifar,
    10,
    16,
  ),
  row(
    'resnext_medium',
    'cifar',
    'resnext_small at twice the width: 3 stages of 1 block, 8 groups of 4, widths 32/64/128 (Fashion-MNIST: 92.85% in 20 epochs)',
    'bottleneck',
    [1, 1, 1],
    8,
    8,
    cifar,
    10,
    32,
  ),
] as const;

/** The name of a registered model: `createModel('resnext_smal')` is a compile error. */
export type ModelName = (typeof ROWS)[number]['name'];

/** All variants, in the order `resnext models` lists them. */
export const VARIANTS: readonly (ModelVariant & { name: ModelName })[] = ROWS;
