// Dataset specs on the command line: fashion-mnist[:<dir>] | cifar10:<dir> | cifar100:<dir> | folder:<dir>.
import { loadCifar } from './cifar';
import type { DatasetSplits } from './dataset';
import { loadFashionMnist } from './fashion-mnist-files';
import { loadImageFolder } from './image-folder';
import { closestNames } from '../models/suggest';

const DATASET_KINDS = ['fashion-mnist', 'cifar10', 'cifar100', 'folder'];

/** Loads the train and test splits a spec names. */
export async function loadDataset(spec: string, opts: { imageSize?: number } = {}): Promise<DatasetSplits> {
  const [kind, ...rest] = spec.split(':');
  const dir = rest.join(':');
  if (kind === 'fashion-mnist') return loadFashionMnist(dir || undefined);
  if ((kind === 'cifar10' || kind === 'cifar100') && dir) return loadCifar(dir, kind === 'cifar10' ? 10 : 100);
  if (kind === 'folder' && dir) return loadImageFolder(dir, opts.imageSize ?? 32);
  if ((kind === 'cifar10' || kind === 'cifar100' || kind === 'folder') && !dir) {
    throw new Error(
      `--data ${spec} needs a folder: ${kind}:<dir> (nothing is downloaded; put the ${kind === 'folder' ? 'images' : 'official binary files'} there)`,
    );
  }
  const close = closestNames(kind, DATASET_KINDS);
  throw new Error(
    `unknown dataset '${spec}'${close.length ? `; did you mean ${close[0]}${dir ? `:${dir}` : ''}?` : ''} ` +
      '(expected fashion-mnist, fashion-mnist:<dir>, cifar10:<dir>, cifar100:<dir> or folder:<dir>)',
  );
}
