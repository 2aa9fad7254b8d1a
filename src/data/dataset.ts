// The dataset form every loader produces: uint8 images in CHW order plus int labels, in memory.

/** A labelled image set held in memory. */
export interface ImageDataset {
  /** A short description (name and split). */
  readonly name: string;
  /** All images, CHW per image, back to back (length = count·C·H·W). */
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  /** [C, H, W] of every image. */
  readonly shape: readonly [number, number, number];
  readonly classNames: readonly string[];
}

/** A train/test pair. */
export interface DatasetSplits {
  train: ImageDataset;
  test: ImageDataset;
}

/** Number of images in a dataset. */
export function datasetSize(d: ImageDataset): number {
  return d.labels.length;
}

/**
 * `n` images spread evenly over the dataset (indices ⌊i·N/n⌋), for quick runs and tests: datasets
 * stored class by class (Fashion-MNIST, image folders) still give every class its share.
 */
export function subset(d: ImageDataset, n: number): ImageDataset {
  const total = d.labels.length,
    count = Math.min(n, total),
    per = d.shape[0] * d.shape[1] * d.shape[2];
  if (count === total) return d;
  const images = new Uint8Array(count * per),
    labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const src = Math.floor((i * total) / count);
    images.set(d.images.subarray(src * per, (src + 1) * per), i * per);
    labels[i] = d.labels[src];
  }
  return { ...d, name: `${d.name}[${count} of ${total}]`, images, labels };
}

/** Per-channel mean/std of a dataset's training images, in [0, 1] units. */
export function channelStats(d: ImageDataset): { mean: number[]; std: number[] } {
  const [c, h, w] = d.shape,
    per = c * h * w,
    n = datasetSize(d),
    hw = h * w;
  const mean: number[] = [],
    std: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    let s = 0,
      q = 0;
    for (let i = 0; i < n; i++)
      for (let p = 0; p < hw; p++) {
        const v = d.images[i * per + ch * hw + p] / 255;
        s += v;
        q += v * v;
      }
    const m = s / (n * hw);
    mean.push(m);
    std.push(Math.sqrt(Math.max(q / (n * hw) - m * m, 1e-12)));
  }
  return { mean, std };
}
