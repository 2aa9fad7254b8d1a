// The part of the public API that runs wherever JavaScript does (Node, browsers, workers): no Node
// built-in, no native addon. Both entries re-export it: src/index.ts (Node) and src/browser.ts.
export type { Backend, DType, Int8Conv, Kernels, KernelName, LowPrecision } from './backend/contract';
export {
  getBackend,
  getDefaultBackend,
  listBackends,
  registerBackend,
  setDefaultBackend,
  type BackendSource,
} from './backend/slot';
export { metaBackend } from './backend/meta';
export { referenceBackend } from './backend/reference';
export { noGrad, isGradEnabled } from './autograd/engine';
export { Tensor } from './tensor/tensor';
export { tensor, zeros, ones, full, randn, uniform, type TensorOptions } from './tensor/create';
export { Generator, manualSeed } from './tensor/random';
export * as F from './tensor/ops';
export * as nn from './nn';
export {
  Module,
  Parameter,
  Sequential,
  Conv2d,
  BatchNorm2d,
  ReLU,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  Linear,
  Flatten,
  Identity,
} from './nn';
export {
  prepareForInference,
  calibrate,
  quantizeModel,
  type InferenceOptions,
  type InferencePrecision,
  type QuantizedConv,
  ImageClassifier,
  ResidualBlock,
} from './nn';
export { createModel, listModels, getVariant, modelName, type CreateModelOptions } from './models/registry';
export type { ModelVariant, ModelName, Family } from './models/variants';
export { ResNet, Bottleneck, BasicBlock } from './models/resnet';
export { TutorialResNeXt, TutorialBottleneck, type StrideAt } from './models/tutorial';
export { summary, ModelSummary, type SummaryOptions, type SummaryTotals, type SummaryColumn } from './summary';
export type {
  BenchJson,
  ConvParamsJson,
  DoctorJson,
  EvalJson,
  InspectJson,
  ModelsJsonEntry,
  PaperJson,
  PredictJson,
  SummaryJson,
} from './cli/json-output';
export { parseWeights, readWeights, sniffWeights, type WeightsFile } from './io/weights';
export { FileFormatError } from './io/errors';
export { parseSafetensors, readSafetensors, serializeSafetensors } from './io/safetensors';
export { int8ModelFile, isInt8File, readInt8ModelFile } from './io/int8-weights';
export { parseTorchCheckpoint, DEFAULT_MAX_CHECKPOINT_BYTES, type CheckpointOptions } from './io/torch-checkpoint';
export { parseNpy, serializeNpy } from './io/npy';
export { serializeOnnx, type OnnxExportOptions } from './io/onnx-export';
export { IMAGENET_CLASSES } from './data/imagenet-classes';
export { parseIdx, parseIdxGz, type IdxOptions } from './data/idx';
export { FASHION_MNIST_CLASSES, parseFashionMnistSplit, fashionMnistFileNames } from './data/fashion-mnist';
export { subset, channelStats, type ImageDataset, type DatasetSplits } from './data/dataset';
export { Batches, type Batch, type BatchOptions } from './data/batches';
export type { BatchTransform } from './data/transforms';
export { evaluate, trainStep } from './train/evaluate';
export { prepareRun, TRAIN_DEFAULTS, type RunRecipe, type PreparedRun } from './train/recipe';
export { usageMetadata, type WeightsUsage } from './io/usage';
export { modelFromWeights, modelsFitting } from './models/from-weights';
export { classify, imageBatch, preprocessingFor, type RankedClass } from './models/predict';
export {
  IMAGENET_PREPROCESSING,
  normalizePixels,
  resizeAndCrop,
  resizeBilinear,
  type ImagePreprocessing,
  type Pixels,
} from './data/pixels';
export { SGD, AdamW, Optimizer } from './train/optim';
export { learningRate, type ScheduleOptions } from './train/schedule';
export { stepScope } from './train/step-scope';
export { profileBackend, formatProfile, type KernelProfile, type ProfileRow } from './backend/profile';
export { traceOps, type TracedOp } from './tensor/trace';
