// Image files in Node: decoded by sharp (JPEG, PNG, WebP, …), then torchvision's preprocessing
// (src/data/pixels.ts, shared with browsers): resize the shorter side to 256 as PIL does, center-crop
// 224, scale to [0, 1], normalise by the ImageNet mean and std, CHW float32.
import { noGrad } from '../autograd/engine';
import { tensor } from '../tensor/create';
import type { Tensor } from '../tensor/tensor';
import type { ImageClassifier } from '../nn/classifier';
import { prepareForInference } from '../nn/inference';
import { imageBatch } from '../models/predict';
import { IMAGENET_PREPROCESSING, type ImagePreprocessing, normalizePixels, type Pixels, resizeAndCrop } from './pixels';

export { IMAGENET_PREPROCESSING, type ImagePreprocessing } from './pixels';

/**
 * Decodes one image (EXIF orientation applied, sRGB) into full-size pixels. The one decoder of the
 * project in Node: predict, embeddings and image-folder datasets all use it.
 */
export async function decodePixels(path: string): Promise<Pixels> {
  // sharp (a native module) loads on the first decode, not when the package is imported
  const { default: sharp } = await import('sharp');
  try {
    const { data, info } = await sharp(path, { failOn: 'error' })
      .rotate()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), ...info };
  } catch (e) {
    throw new Error(`${path}: cannot decode image (${(e as Error).message})`);
  }
}

/**
 * Decodes one image and applies the geometric part of the preprocessing (convert, resize the
 * shorter side to `resize`, center-crop `crop`, as torchvision on a PIL image), returning
 * `channels` × crop × crop bytes in CHW order.
 */
export async function decodeImage(
  path: string,
  p: Pick<ImagePreprocessing, 'resize' | 'crop' | 'channels'>,
): Promise<Uint8Array> {
  return resizeAndCrop(await decodePixels(path), p, path);
}

/** Decodes and preprocesses one image into a [channels, crop, crop] float32 tensor. */
export async function loadImage(path: string, p: ImagePreprocessing = IMAGENET_PREPROCESSING): Promise<Tensor> {
  return tensor(normalizePixels(await decodeImage(path, p), p), [p.channels ?? 3, p.crop, p.crop]);
}

/** Loads images into one [N, C, crop, crop] batch. */
export async function loadImageBatch(
  paths: readonly string[],
  p: ImagePreprocessing = IMAGENET_PREPROCESSING,
): Promise<Tensor> {
  if (paths.length === 0) throw new Error('loadImageBatch: no images given');
  return imageBatch(await Promise.all(paths.map(async (path) => normalizePixels(await decodeImage(path, p), p))), p);
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
