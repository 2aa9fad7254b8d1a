// Fashion-MNIST from its official idx files (Xiao et al. 2017): the four files Debian's
// `dataset-fashion-mnist` installs under /usr/share/datasets/fashion-mnist/, or the same files
// (gzipped or not) in a folder the user names. The official split: 60,000 train, 10,000 test.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readFileChecked } from '../io/files';
import type { DatasetSplits, ImageDataset } from './dataset';
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

/** Where Debian's `dataset-fashion-mnist` package puts the official files. */
export const FASHION_MNIST_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

const SPLITS = { train: { prefix: 'train', count: 60000 }, test: { prefix: 't10k', count: 10000 } } as const;

/** Reads `<dir>/<name>.gz`, else `<dir>/<name>`, as idx bytes of the given dimensions. */
function readIdxFile(dir: string, name: string, dims: number[]): Uint8Array {
  const gz = join(dir, `${name}.gz`),
    plain = join(dir, name);
  if (existsSync(gz)) return parseIdxGz(readFileChecked(gz), dims, gz).data;
  if (existsSync(plain)) return parseIdx(readFileChecked(plain), dims, plain).data;
  throw new Error(`Fashion-MNIST: ${gz} not found (nor ${name}); expected the four official idx files in ${dir}`);
}

function loadSplit(dir: string, split: keyof typeof SPLITS): ImageDataset {
  const { prefix, count } = SPLITS[split];
  const images = readIdxFile(dir, `${prefix}-images-idx3-ubyte`, [count, 28, 28]);
  const rawLabels = readIdxFile(dir, `${prefix}-labels-idx1-ubyte`, [count]);
  const bad = rawLabels.findIndex((l) => l > 9);
  if (bad >= 0)
    throw new Error(`Fashion-MNIST: ${prefix}-labels-idx1-ubyte label ${bad} is ${rawLabels[bad]}, expected 0..9`);
  return {
    name: `fashion-mnist/${split}`,
    images,
    labels: Int32Array.from(rawLabels),
    shape: [1, 28, 28],
    classNames: FASHION_MNIST_CLASSES,
  };
}

/**
 * Loads the official Fashion-MNIST split (train 60,000 / test 10,000, 1x28x28) from `dir`
 * (default: Debian's package folder), validating magic numbers, counts, sizes, CRCs and labels.
 */
export function loadFashionMnist(dir = FASHION_MNIST_DEBIAN_DIR): DatasetSplits {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    const hint =
      dir === FASHION_MNIST_DEBIAN_DIR
        ? 'install it with `apt-get install -y dataset-fashion-mnist`, or name a folder holding the four official idx files with --data fashion-mnist:<dir>'
        : 'expected a folder holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz';
    throw new Error(`Fashion-MNIST: folder ${dir} not found; ${hint}`);
  }
  return { train: loadSplit(dir, 'train'), test: loadSplit(dir, 'test') };
}
