// ResNeXt.ts for Node (the package's main export): the portable API (portable.ts), the native
// backend (its addon loaded when the first tensor is made, never at import), files, datasets,
// images and the training loop.
import './backend/node';

export * from './portable';
export { nativeStatus } from './backend/node';
export { nativeBufferPool } from './backend/native';
export { FileError } from './io/files';
export {
  loadWeights,
  readWeightsFile,
  loadSafetensors,
  saveSafetensors,
  loadNpy,
  saveNpy,
  saveOnnx,
} from './io/load-save';
export { loadImage, loadImageBatch, embedImages, decodePixels } from './data/image';
export { loadDataset } from './data/load';
export { loadFashionMnist, FASHION_MNIST_DEBIAN_DIR } from './data/fashion-mnist-files';
export { loadCifar } from './data/cifar';
export { loadImageFolder } from './data/image-folder';
export { DataLoader, type LoaderOptions } from './data/loader';
export { train, type TrainConfig, type TrainEvents, type TrainOptions } from './train/trainer';
