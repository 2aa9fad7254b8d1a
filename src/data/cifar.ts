// CIFAR-10 and CIFAR-100 from the official binary files in a folder the user gives (nothing is
// downloaded). CIFAR-10: data_batch_1..5.bin and test_batch.bin, 10,000 records of
// <label byte><3072 CHW pixels>. CIFAR-100: train.bin and test.bin, <coarse><fine><3072 pixels>.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetSplits, ImageDataset } from './dataset';

const PIXELS = 3 * 32 * 32;
const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const WHERE = {
  10: "the CIFAR-10 binary version ('cifar-10-binary.tar.gz' from https://www.cs.toronto.edu/~kriz/cifar.html): data_batch_1.bin … data_batch_5.bin, test_batch.bin",
  100: "the CIFAR-100 binary version ('cifar-100-binary.tar.gz' from https://www.cs.toronto.edu/~kriz/cifar.html): train.bin, test.bin",
};

/** The folder holding the files: `dir` itself or its extracted subfolder. */
function resolveDir(dir: string, variant: 10 | 100, first: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new Error(`CIFAR-${variant}: folder '${dir}' does not exist; put ${WHERE[variant]} there`);
  for (const d of [dir, join(dir, variant === 10 ? 'cifar-10-batches-bin' : 'cifar-100-binary')])
    if (existsSync(join(d, first))) return d;
  throw new Error(`CIFAR-${variant}: '${join(dir, first)}' not found; put ${WHERE[variant]} in '${dir}'`);
}

function readRecords(
  path: string,
  labelBytes: number,
  labelAt: number,
  expected: number,
  variant: number,
): { images: Uint8Array; labels: Int32Array } {
  if (!existsSync(path)) throw new Error(`CIFAR-${variant}: '${path}' is missing`);
  const buf = readFileSync(path),
    rec = labelBytes + PIXELS;
  if (buf.length !== expected * rec)
    throw new Error(
      `CIFAR-${variant}: '${path}' is ${buf.length} bytes, expected ${expected * rec} (${expected} records of ${rec} bytes)`,
    );
  const images = new Uint8Array(expected * PIXELS),
    labels = new Int32Array(expected);
  for (let i = 0; i < expected; i++) {
    labels[i] = buf[i * rec + labelAt];
    images.set(buf.subarray(i * rec + labelBytes, (i + 1) * rec), i * PIXELS);
  }
  return { images, labels };
}

function concat(parts: { images: Uint8Array; labels: Int32Array }[]): { images: Uint8Array; labels: Int32Array } {
  const images = new Uint8Array(parts.reduce((s, p) => s + p.images.length, 0)),
    labels = new Int32Array(parts.reduce((s, p) => s + p.labels.length, 0));
  let a = 0,
    b = 0;
  for (const p of parts) {
    images.set(p.images, a);
    labels.set(p.labels, b);
    a += p.images.length;
    b += p.labels.length;
  }
  return { images, labels };
}

function classNames(dir: string, file: string, fallback: string[]): string[] {
  const p = join(dir, file);
  return existsSync(p)
    ? readFileSync(p, 'utf8')
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean)
    : fallback;
}

/** Loads CIFAR-10 (50,000 / 10,000, 3x32x32) or CIFAR-100 (fine labels) from `dir`. */
export function loadCifar(dir: string, variant: 10 | 100): DatasetSplits {
  let train: Pick<ImageDataset, 'images' | 'labels'>, test: Pick<ImageDataset, 'images' | 'labels'>, names: string[];
  if (variant === 10) {
    const d = resolveDir(dir, 10, 'data_batch_1.bin');
    train = concat([1, 2, 3, 4, 5].map((i) => readRecords(join(d, `data_batch_${i}.bin`), 1, 0, 10000, 10)));
    test = readRecords(join(d, 'test_batch.bin'), 1, 0, 10000, 10);
    names = classNames(d, 'batches.meta.txt', CIFAR10_CLASSES);
  } else {
    const d = resolveDir(dir, 100, 'train.bin');
    train = readRecords(join(d, 'train.bin'), 2, 1, 50000, 100);
    test = readRecords(join(d, 'test.bin'), 2, 1, 10000, 100);
    names = classNames(
      d,
      'fine_label_names.txt',
      Array.from({ length: 100 }, (_, i) => `class ${i}`),
    );
  }
  const make = (split: string, r: { images: Uint8Array; labels: Int32Array }): ImageDataset => ({
    name: `cifar${variant}/${split}`,
    images: r.images,
    labels: r.labels,
    shape: [3, 32, 32],
    classNames: names,
  });
  return { train: make('train', train), test: make('test', test) };
}
