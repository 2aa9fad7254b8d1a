// The torchvision ResNet family with torchvision's attribute names (conv1, bn1, layer1..4,
// downsample, fc), so state-dict keys match torchvision checkpoints. ResNeXt is this network
// with groups > 1: a bottleneck's inner width is ⌊planes·widthPerGroup/64⌋·groups.
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Linear,
  MaxPool2d,
  ReLU,
  type Conv2dOptions,
  type LayerOptions,
} from '../nn/layers';
import { ImageClassifier } from '../nn/classifier';
import type { Module } from '../nn/module';
import { ResidualBlock } from '../nn/residual';
import { Sequential } from '../nn/sequential';
import type { StrideAt } from './tutorial';

/** Shared constructor arguments of the two block types. */
interface BlockArgs {
  inplanes: number;
  planes: number;
  stride: number;
  downsample: Sequential | null;
  groups: number;
  widthPerGroup: number;
  strideAt: StrideAt;
  lo: Conv2dOptions;
}

/** Two 3x3 convs (ResNet-18/34). */
export class BasicBlock extends ResidualBlock {
  static readonly pytorchName = 'BasicBlock';
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu: ReLU;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(a: BlockArgs) {
    super();
    if (a.groups !== 1 || a.widthPerGroup !== 64)
      throw new Error('BasicBlock: only supports groups=1 and widthPerGroup=64');
    this.conv1 = this.registerModule(
      'conv1',
      new Conv2d(a.inplanes, a.planes, 3, { stride: a.stride, padding: 1, bias: false, ...a.lo }),
    );
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(a.planes, a.lo));
    this.relu = this.registerModule('relu', new ReLU({ inplace: true }));
    this.conv2 = this.registerModule('conv2', new Conv2d(a.planes, a.planes, 3, { padding: 1, bias: false, ...a.lo }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(a.planes, a.lo));
    this.downsample = a.downsample ? this.registerModule('downsample', a.downsample) : null;
  }

  get shortcut(): Sequential | null {
    return this.downsample;
  }

  /** conv1 → bn1 → relu → conv2 → bn2. */
  path(): readonly Module[] {
    return [this.conv1, this.bn1, this.relu, this.conv2, this.bn2];
  }
}

/** 1x1 → 3x3 (grouped) → 1x1 (×4) bottleneck; the stride sits on the 3x3 conv by default (ResNet v1.5, the paper). */
export class Bottleneck extends ResidualBlock {
  static readonly pytorchName = 'Bottleneck';
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly relu: ReLU;
  readonly downsample: Sequential | null;

  constructor(a: BlockArgs) {
    super();
    const width = Math.floor(a.planes * (a.widthPerGroup / 64)) * a.groups;
    const s1 = a.strideAt === '1x1' ? a.stride : 1,
      s3 = a.strideAt === '3x3' ? a.stride : 1;
    this.conv1 = this.registerModule('conv1', new Conv2d(a.inplanes, width, 1, { stride: s1, bias: false, ...a.lo }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width, a.lo));
    this.conv2 = this.registerModule(
      'conv2',
      new Conv2d(width, width, 3, { stride: s3, padding: 1, groups: a.groups, bias: false, ...a.lo }),
    );
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(width, a.lo));
    this.conv3 = this.registerModule(
      'conv3',
      new Conv2d(width, a.planes * Bottleneck.expansion, 1, { bias: false, ...a.lo }),
    );
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(a.planes * Bottleneck.expansion, a.lo));
    this.relu = this.registerModule('relu', new ReLU({ inplace: true }));
    this.downsample = a.downsample ? this.registerModule('downsample', a.downsample) : null;
  }

  get shortcut(): Sequential | null {
    return this.downsample;
  }

  /** conv1 → bn1 → relu → conv2 (grouped) → bn2 → relu → conv3 → bn3. */
  path(): readonly Module[] {
    return [this.conv1, this.bn1, this.relu, this.conv2, this.bn2, this.relu, this.conv3, this.bn3];
  }
}

/** Options of the ResNet family. */
export interface ResNetOptions extends LayerOptions {
  block: 'basic' | 'bottleneck';
  /** Blocks per stage: 4 stages for ImageNet, 3 for the CIFAR ResNeXt-29. */
  layers: number[];
  groups?: number;
  widthPerGroup?: number;
  numClasses?: number;
  /** 'imagenet': 7x7/2 conv + 3x3/2 max pool; 'cifar': one 3x3/1 conv, no pool. */
  stem?: 'imagenet' | 'cifar';
  strideAt?: StrideAt;
  inChannels?: number;
  /** Stem width and stage-1 planes, doubling per stage (torchvision: 64; smaller for tests and tiny models). */
  basePlanes?: number;
}

/** torchvision's ResNet (and with groups > 1, ResNeXt). */
export class ResNet extends ImageClassifier {
  static readonly pytorchName = 'ResNet';
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu: ReLU;
  readonly maxpool: MaxPool2d | null;
  readonly stages: Sequential[];
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: Linear;

  constructor(readonly options: ResNetOptions) {
    super();
    const {
      layers,
      groups = 1,
      widthPerGroup = 64,
      numClasses = 1000,
      stem = 'imagenet',
      strideAt = '3x3',
      inChannels = 3,
      basePlanes = 64,
    } = options;
    const Block = options.block === 'basic' ? BasicBlock : Bottleneck;
    // torchvision initialises every conv with kaiming_normal_(mode='fan_out', nonlinearity='relu').
    const lo = { backend: options.backend, generator: options.generator, weightInit: 'kaimingNormalFanOut' as const };
    this.conv1 = this.registerModule(
      'conv1',
      stem === 'imagenet'
        ? new Conv2d(inChannels, basePlanes, 7, { stride: 2, padding: 3, bias: false, ...lo })
        : new Conv2d(inChannels, basePlanes, 3, { stride: 1, padding: 1, bias: false, ...lo }),
    );
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(basePlanes, lo));
    this.relu = this.registerModule('relu', new ReLU({ inplace: true }));
    this.maxpool =
      stem === 'imagenet' ? this.registerModule('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 })) : null;
    let inplanes = basePlanes;
    this.stages = layers.map((count, i) => {
      const planes = basePlanes * 2 ** i,
        stride = i === 0 ? 1 : 2,
        out = planes * Block.expansion;
      const downsample =
        stride !== 1 || inplanes !== out
          ? new Sequential(new Conv2d(inplanes, out, 1, { stride, bias: false, ...lo }), new BatchNorm2d(out, lo))
          : null;
      const blocks: Module[] = [];
      for (let b = 0; b < count; b++) {
        blocks.push(
          new Block({
            inplanes,
            planes,
            stride: b === 0 ? stride : 1,
            downsample: b === 0 ? downsample : null,
            groups,
            widthPerGroup,
            strideAt,
            lo,
          }),
        );
        inplanes = out;
      }
      return this.registerModule(`layer${i + 1}`, new Sequential(...blocks));
    });
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.fc = this.registerModule(
      'fc',
      new Linear(inplanes, numClasses, { backend: options.backend, generator: options.generator }),
    );
  }

  /** conv1 → bn1 → relu → maxpool (ImageNet stem) → layer1..4 → avgpool. */
  featureLayers(): readonly Module[] {
    return [this.conv1, this.bn1, this.relu, ...(this.maxpool ? [this.maxpool] : []), ...this.stages, this.avgpool];
  }
}
