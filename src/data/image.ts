// Image loading with torchvision's ImageNet preprocessing, decoded by sharp (JPEG, PNG, WebP, …):
// resize the shorter side to 256 (bilinear), center-crop 224, scale to [0, 1], normalise by the
// ImageNet mean and std, and lay out as CHW float32.
import type { Sharp } from 'sharp';
import { noGrad } from '../autograd/engine';
import { tensor } from '../tensor/create';
import type { Tensor } from '../tensor/tensor';
import type { ImageClassifier } from '../nn/classifier';
import { prepareForInference } from '../nn/inference';

/** Preprocessing parameters (torchvision's ImageNet evaluation transform by default). */
export interface ImagePreprocessing {
  /** 3 for RGB (the default), 1 for greyscale (e.g. Fashion-MNIST). */
  channels?: 1 | 3;
  resize: number;
  crop: number;
  mean: readonly number[];
  std: readonly number[];
}

/** torchvision's Resize(256) → CenterCrop(224) → ToTensor → Normalize(ImageNet mean, std). */
export const IMAGENET_PREPROCESSING: ImagePreprocessing = {
  resize: 256,
  crop: 224,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** Python's round(): halves go to the even neighbour (torchvision's center-crop offsets use it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Decodes one image and applies the geometric part of the preprocessing — resize the shorter side
 * to `resize` (bilinear), center-crop `crop` — returning `channels` × crop × crop bytes in CHW order.
 * The one decoder of the project: predict, embeddings and image-folder datasets all use it.
 */
export async function decodeImage(
  path: string,
  p: Pick<ImagePreprocessing, 'resize' | 'crop' | 'channels'>,
): Promise<Uint8Array> {
  const channels = p.channels ?? 3;
  // sharp (a native module) loads on the first decode, not when the package is imported
  const { default: sharp } = await import('sharp');
  let img: Sharp, width: number, height: number;
  try {
    img = sharp(path, { failOn: 'error' })
      .rotate()
      .removeAlpha()
      .toColourspace(channels === 1 ? 'b-w' : 'srgb');
    ({ width = 0, height = 0 } = await sharp(path).metadata());
  } catch (e) {
    throw new Error(`${path}: cannot decode image (${(e as Error).message})`);
  }
  if (width < 1 || height < 1) throw new Error(`${path}: image has no pixels`);
  // Resize(256): the shorter side becomes 256, the longer one int(256 · long / short)
  const [w, h] =
    width <= height
      ? [p.resize, Math.floor((p.resize * height) / width)]
      : [Math.floor((p.resize * width) / height), p.resize];
  if (w < p.crop || h < p.crop)
    throw new Error(`${path}: resized image ${w}x${h} is smaller than the ${p.crop}x${p.crop} crop`);
  const left = roundHalfEven((w - p.crop) / 2),
    top = roundHalfEven((h - p.crop) / 2);
  let raw: Buffer;
  try {
    raw = await img
      .resize(w, h, { kernel: 'linear', fit: 'fill', fastShrinkOnLoad: false })
      .extract({ left, top, width: p.crop, height: p.crop })
      .raw()
      .toBuffer();
  } catch (e) {
    throw new Error(`${path}: cannot decode image (${(e as Error).message})`);
  }
  const hw = p.crop * p.crop;
  if (raw.length !== channels * hw)
    throw new Error(
      `${path}: decoded ${raw.length} bytes, expected ${channels * hw} (${channels} channels, ${p.crop}x${p.crop})`,
    );
  const chw = new Uint8Array(channels * hw);
  for (let i = 0; i < hw; i++) for (let c = 0; c < channels; c++) chw[c * hw + i] = raw[channels * i + c];
  return chw;
}

/** Decodes and preprocesses one image into a [channels, crop, crop] float32 tensor. */
export async function loadImage(path: string, p: ImagePreprocessing = IMAGENET_PREPROCESSING): Promise<Tensor> {
  const channels = p.channels ?? 3;
  if (p.mean.length !== channels || p.std.length !== channels)
    throw new Error(`loadImage: ${channels} channels need ${channels} means and stds`);
  const bytes = await decodeImage(path, p),
    hw = p.crop * p.crop;
  const chw = new Float32Array(channels * hw);
  for (let c = 0; c < channels; c++)
    for (let i = 0; i < hw; i++) chw[c * hw + i] = (bytes[c * hw + i] / 255 - p.mean[c]) / p.std[c];
  return tensor(chw, [channels, p.crop, p.crop]);
}

/** Loads images into one [N, 3, crop, crop] batch. */
export async function loadImageBatch(
  paths: readonly string[],
  p: ImagePreprocessing = IMAGENET_PREPROCESSING,
): Promise<Tensor> {
  if (paths.length === 0) throw new Error('loadImageBatch: no images given');
  const images = await Promise.all(paths.map((path) => loadImage(path, p)));
  const size = images[0].numel,
    batch = new Float32Array(size * images.length);
  for (const [i, t] of images.entries()) batch.set(t.toArray(), i * size);
  return tensor(batch, [images.length, ...images[0].shape]);
}

/** Pooled embeddings ([N, 2048] for ResNeXt-50) of images, in eval mode without gradients. */
export async function embedImages(
  model: ImageClassifier,
  paths: readonly string[],
  p: ImagePreprocessing = IMAGENET_PREPROCESSING,
): Promise<Tensor> {
  const batch = await loadImageBatch(paths, p);
  prepareForInference(model).eval();
  return noGrad(() => model.forwardFeatures(batch));
}
