// Fashion-MNIST (Xiao et al. 2017) from the bytes of its idx files, wherever JavaScript runs: the
// official split is 60,000 train and 10,000 test images; a subset in the same format (the page's,
// written by scripts/make-fashion-subset.js) has fewer. Reading a folder: fashion-mnist-files.ts.
import type { ImageDataset } from './dataset';
import { parseIdx, parseIdxGz } from './idx';

/** Fashion-MNIST's class names, by label. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** The official splits: file prefix and image count. */
export const FASHION_MNIST_SPLITS = {
  train: { prefix: 'train', count: 60000 },
  test: { prefix: 't10k', count: 10000 },
} as const;

/** The idx file names of a split (without .gz). */
export function fashionMnistFileNames(split: keyof typeof FASHION_MNIST_SPLITS): { images: string; labels: string } {
  const { prefix } = FASHION_MNIST_SPLITS[split];
  return { images: `${prefix}-images-idx3-ubyte`, labels: `${prefix}-labels-idx1-ubyte` };
}

/** One idx file's bytes, gzipped (by its name's .gz) or not. */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

/**
 * Parses one split from its images and labels files (gzipped when the name ends in .gz): 28x28 images,
 * at most the official count, as many labels as images, every label 0..9; errors name the file.
 */
export function parseFashionMnistSplit(
  split: keyof typeof FASHION_MNIST_SPLITS,
  images: NamedBytes,
  labels: NamedBytes,
): ImageDataset {
  const { count } = FASHION_MNIST_SPLITS[split];
  const parse = (f: NamedBytes, dims: number[]) =>
    (f.name.endsWith('.gz') ? parseIdxGz : parseIdx)(f.bytes, dims, f.name, { countUpTo: true });
  const img = parse(images, [count, 28, 28]);
  const lab = parse(labels, [count]);
  if (lab.dims[0] !== img.dims[0]) {
    throw new Error(
      `Fashion-MNIST: ${labels.name} has ${lab.dims[0]} labels for the ${img.dims[0]} images of ${images.name}`,
    );
  }
  const bad = lab.data.findIndex((l) => l > 9);
  if (bad >= 0) throw new Error(`Fashion-MNIST: ${labels.name} label ${bad} is ${lab.data[bad]}, expected 0..9`);
  const n = img.dims[0];
  return {
    name: n === count ? `fashion-mnist/${split}` : `fashion-mnist/${split}[${n}]`,
    images: img.data,
    labels: Int32Array.from(lab.data),
    shape: [1, 28, 28],
    classNames: FASHION_MNIST_CLASSES,
  };
}
