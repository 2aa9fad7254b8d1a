// createModel / listModels: builds any registered variant from its row.
import type { Backend } from '../backend/contract';
import { Generator } from '../tensor/random';
import type { ImageClassifier } from '../nn/classifier';
import { ResNet } from './resnet';
import { closestNames } from './suggest';
import { TutorialResNeXt, type StrideAt } from './tutorial';
import { VARIANTS, type ModelName, type ModelVariant } from './variants';

/** Options accepted by every model. */
export interface CreateModelOptions {
  numClasses?: number;
  /** Where a downsampling block's stride sits (tutorial default '1x1', others '3x3'). */
  strideAt?: StrideAt;
  /** Input channels (3 for RGB, 1 for grayscale). */
  inChannels?: number;
  backend?: Backend;
  /** Seed for the weight initialisation (a fresh generator), or pass a generator. */
  seed?: number;
  generator?: Generator;
}

/** Every registered variant. */
export function listModels(): readonly (ModelVariant & { name: ModelName })[] {
  return VARIANTS;
}

/** Stage depths of the paper's ResNeXt-50/101/152 template. */
const TEMPLATE_LAYERS: Record<string, number[]> = { '50': [3, 4, 6, 3], '101': [3, 4, 23, 3], '152': [3, 8, 36, 3] };

/**
 * Any ResNeXt of the paper's template by name, registered or not: `resnext<depth>_<C>x<d>d` with
 * depth 50, 101 or 152, C groups of d channels in the first stage (torchvision's layout, stride on
 * the 3x3 conv) — e.g. `resnext101_16x8d`, the explorer page's custom models.
 */
export function templateVariant(name: string): ModelVariant | null {
  const m = /^resnext(50|101|152)_([1-9][0-9]*)x([1-9][0-9]*)d$/.exec(name);
  if (!m) return null;
  const [groups, width] = [Number(m[2]), Number(m[3])];
  if (groups > 1024 || width > 1024) return null;
  return {
    name,
    family: 'paper',
    description: `ResNeXt-${m[1]} ${groups}x${width}d (the paper's template)`,
    layers: TEMPLATE_LAYERS[m[1]],
    block: 'bottleneck',
    groups,
    widthPerGroup: width,
    inputSize: [3, 224, 224],
    numClasses: 1000,
    basePlanes: 64,
  };
}

/** The row for `name` (a registered model, or the paper's template by name), or an error that lists close names. */
export function getVariant(name: string): ModelVariant & { name: ModelName } {
  const v =
    VARIANTS.find((m) => m.name === name) ?? (templateVariant(name) as (ModelVariant & { name: ModelName }) | null);
  if (v) return v;
  const close = closestNames(
    name,
    VARIANTS.map((m) => m.name),
  );
  throw new Error(
    `unknown model '${name}'${close.length ? `; did you mean ${close.join(', ')}?` : ''} (run 'resnext models' for the list)`,
  );
}

/** A name from the command line or a file, checked: the registered ModelName, or an error with suggestions. */
export function modelName(name: string): ModelName {
  return getVariant(name).name;
}

/** Builds a registered model with freshly initialised weights (names from user input go through modelName()). */
export function createModel(name: ModelName, opts: CreateModelOptions = {}): ImageClassifier {
  return buildModel(getVariant(name), opts);
}

/** Builds the model a variant row describes (registered or not, e.g. an experiment's arm). */
export function buildModel(v: ModelVariant, opts: CreateModelOptions = {}): ImageClassifier {
  const numClasses = opts.numClasses ?? v.numClasses;
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new Error(`createModel: numClasses must be a positive integer, got ${numClasses}`);
  const inChannels = opts.inChannels ?? 3;
  if (!Number.isInteger(inChannels) || inChannels < 1)
    throw new Error(`createModel: inChannels must be a positive integer, got ${inChannels}`);
  const generator = opts.generator ?? (opts.seed !== undefined ? new Generator(opts.seed) : undefined);
  const common = { numClasses, inChannels, backend: opts.backend, generator };
  if (v.family === 'tutorial') {
    return new TutorialResNeXt({
      ...common,
      blocks: v.layers,
      cardinality: v.groups,
      baseWidth: v.groups * v.widthPerGroup,
      strideAt: opts.strideAt ?? '1x1',
    });
  }
  return new ResNet({
    ...common,
    block: v.block,
    layers: v.layers,
    groups: v.groups,
    widthPerGroup: v.widthPerGroup,
    stem: v.family === 'cifar' ? 'cifar' : 'imagenet',
    strideAt: opts.strideAt ?? '3x3',
    basePlanes: v.basePlanes,
  });
}
