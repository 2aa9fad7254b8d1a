// Fashion-MNIST's four idx files from a folder: the ones Debian's `dataset-fashion-mnist` installs
// under /usr/share/datasets/fashion-mnist/ (the default), or the same files, gzipped or not, in a
// folder the user names — the official 60,000/10,000 split or a subset in the same format.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readFileChecked } from '../io/files';
import type { DatasetSplits, ImageDataset } from './dataset';
import {
  type FASHION_MNIST_SPLITS,
  fashionMnistFileNames,
  type NamedBytes,
  parseFashionMnistSplit,
} from './fashion-mnist';

/** Where Debian's `dataset-fashion-mnist` package puts the official files. */
export const FASHION_MNIST_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

/** `<dir>/<name>.gz`, else `<dir>/<name>`, with its path as its name. */
function readIdxFile(dir: string, name: string): NamedBytes {
  for (const path of [join(dir, `${name}.gz`), join(dir, name)])
    if (existsSync(path)) return { name: path, bytes: readFileChecked(path) };
  throw new Error(
    `Fashion-MNIST: ${join(dir, `${name}.gz`)} not found (nor ${name}); expected the four idx files in ${dir}`,
  );
}

function loadSplit(dir: string, split: keyof typeof FASHION_MNIST_SPLITS): ImageDataset {
  const names = fashionMnistFileNames(split);
  return parseFashionMnistSplit(split, readIdxFile(dir, names.images), readIdxFile(dir, names.labels));
}

/**
 * Loads Fashion-MNIST's train and test splits (1x28x28) from `dir` (default: Debian's package
 * folder), validating magic numbers, counts, sizes, CRCs and labels.
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
