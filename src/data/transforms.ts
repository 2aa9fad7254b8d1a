// Batch assembly with augmentation: random crop with zero padding, horizontal flip, then
// normalisation (x/255 − mean)/std, from uint8 CHW images to a float32 [N, C, H, W] batch.
// Every random draw comes from the generator passed in, so a batch is a pure function of it.
import { Generator } from '../tensor/random';

/** Augmentation and normalisation of a batch. */
export interface BatchTransform {
  /** Random crop of the original size after zero-padding each side by this much (0: none). */
  randomCropPadding: number;
  horizontalFlip: boolean;
  /** Per-channel mean and std in [0, 1] units. */
  mean: readonly number[];
  std: readonly number[];
}

/** Normalisation only (evaluation). */
export function evalTransform(t: BatchTransform): BatchTransform {
  return { ...t, randomCropPadding: 0, horizontalFlip: false };
}

/** Seed of the generator for one batch: a mix of run seed, epoch and batch index (splitmix-style). */
export function batchSeed(seed: number, epoch: number, batch: number): number {
  let h = (seed ^ Math.imul(epoch + 1, 0x9e3779b1) ^ Math.imul(batch + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/** Builds one batch: images[indices] transformed into float32 NCHW, plus their labels. */
export function assembleBatch(
  images: Uint8Array,
  labels: Int32Array,
  shape: readonly [number, number, number],
  indices: ArrayLike<number>,
  t: BatchTransform,
  seed: number,
): { x: Float32Array; y: Int32Array } {
  const [c, h, w] = shape,
    per = c * h * w,
    n = indices.length;
  const x = new Float32Array(n * per),
    y = new Int32Array(n);
  const rng = new Generator(seed),
    pad = t.randomCropPadding;
  const scale = Array.from({ length: c }, (_, ch) => 1 / (255 * t.std[ch]));
  const shift = Array.from({ length: c }, (_, ch) => -t.mean[ch] / t.std[ch]);
  for (let i = 0; i < n; i++) {
    const src = indices[i] * per;
    y[i] = labels[indices[i]];
    const dy = pad ? rng.randint(2 * pad + 1) - pad : 0,
      dx = pad ? rng.randint(2 * pad + 1) - pad : 0;
    const flip = t.horizontalFlip && rng.random() < 0.5;
    for (let ch = 0; ch < c; ch++) {
      const plane = src + ch * h * w,
        out = i * per + ch * h * w;
      for (let yy = 0; yy < h; yy++) {
        const sy = yy + dy;
        for (let xx = 0; xx < w; xx++) {
          const sx = (flip ? w - 1 - xx : xx) + dx;
          const v = sy >= 0 && sy < h && sx >= 0 && sx < w ? images[plane + sy * w + sx] : 0;
          x[out + yy * w + xx] = v * scale[ch] + shift[ch];
        }
      }
    }
  }
  return { x, y };
}
