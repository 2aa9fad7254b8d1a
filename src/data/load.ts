// Dataset specs on the command line: fashion-mnist[:<dir>] | cifar10:<dir> | cifar100:<dir> | folder:<dir>.
import { loadCifar } from './cifar';
import type { DatasetSplits } from './dataset';
import { loadFashionMnist } from './fashion-mnist';
import { loadImageFolder } from './image-folder';

/** Loads the train and test splits a spec names. */
export async function loadDataset(spec: string, opts: { imageSize?: number } = {}): Promise<DatasetSplits> {
  const [kind, ...rest] = spec.split(':');
  const dir = rest.join(':');
  if (kind === 'fashion-mnist') return loadFashionMnist(dir || undefined);
  if ((kind === 'cifar10' || kind === 'cifar100') && dir) return loadCifar(dir, kind === 'cifar10' ? 10 : 100);
  if (kind === 'folder' && dir) return loadImageFolder(dir, opts.imageSize ?? 32);
  throw new Error(`unknown dataset '${spec}'; expected fashion-mnist, fashion-mnist:<dir>, cifar10:<dir>, cifar100:<dir> or folder:<dir>`);
}
