// Classification as `resnext predict` does it, wherever JavaScript runs: how weights want their
// images preprocessed (a `resnext train` run records it; otherwise torchvision's ImageNet transform)
// and the top-k classes of a batch with names and probabilities.
import { noGrad } from '../autograd/engine';
import { IMAGENET_CLASSES } from '../data/imagenet-classes';
import { IMAGENET_PREPROCESSING, type ImagePreprocessing } from '../data/pixels';
import type { WeightsUsage } from '../io/usage';
import type { ImageClassifier } from '../nn/classifier';
import { tensor } from '../tensor/create';
import * as F from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';

/** One class of a prediction. */
export interface RankedClass {
  index: number;
  label: string;
  probability: number;
}

/** The preprocessing weights were trained with (recorded by `resnext train`), else ImageNet's; an input no image gives is an error. */
export function preprocessingFor(usage: WeightsUsage, source: string): ImagePreprocessing {
  const input = usage.input;
  if (!input) return IMAGENET_PREPROCESSING;
  if (input.channels !== 1 && input.channels !== 3) {
    throw new Error(
      `${source}: the model takes ${input.channels} input channels; images give 1 (greyscale) or 3 (RGB)`,
    );
  }
  return { resize: input.size, crop: input.size, channels: input.channels, mean: input.mean, std: input.std };
}

/** Preprocessed images (each `normalizePixels`' output for `p`) as one [N, C, crop, crop] batch. */
export function imageBatch(images: readonly Float32Array[], p: ImagePreprocessing): Tensor {
  if (images.length === 0) throw new Error('image batch: no images given');
  const shape = [p.channels ?? 3, p.crop, p.crop],
    size = shape[0] * shape[1] * shape[2];
  const batch = new Float32Array(size * images.length);
  for (const [i, img] of images.entries()) batch.set(img, i * size);
  return tensor(batch, [images.length, ...shape]);
}

/**
 * The `k` most probable classes of each image of `batch` ([N, C, H, W]) for a model in eval mode,
 * named by the weights' recorded classes, else ImageNet's when there are 1000, else "class i";
 * also the pooled features the classifier saw.
 */
export function classify(
  model: ImageClassifier,
  batch: Tensor,
  k: number,
  usage: WeightsUsage = {},
): { top: RankedClass[][]; features: Tensor } {
  const features = noGrad(() => model.forwardFeatures(batch));
  const probs = noGrad(() => F.softmax(model.fc.call(features)));
  const classes = probs.shape[1];
  const names =
    usage.classes?.length === classes ? usage.classes : classes === IMAGENET_CLASSES.length ? IMAGENET_CLASSES : null;
  const top = F.topk(probs, Math.min(k, classes));
  return {
    features,
    top: top.indices.map((row, n) =>
      row.map((index, j) => ({ index, label: names?.[index] ?? `class ${index}`, probability: top.values[n][j] })),
    ),
  };
}
