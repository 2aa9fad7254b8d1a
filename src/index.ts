// ResNeXt.ts public API: tensors and ops, autograd, nn, the model zoo, summaries, backends.
export type { Backend, DType, Kernels, KernelName } from './backend/contract';
export { getBackend, getDefaultBackend, listBackends, registerBackend, setDefaultBackend } from './backend/registry';
export { metaBackend } from './backend/meta';
export { referenceBackend } from './backend/reference';
export { noGrad, isGradEnabled } from './autograd/engine';
export { Tensor } from './tensor/tensor';
export { tensor, zeros, ones, full, randn, uniform, type TensorOptions } from './tensor/create';
export { Generator, manualSeed } from './tensor/random';
export * as F from './tensor/ops';
export * as nn from './nn';
export { Module, Parameter, Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Linear, Flatten, Identity } from './nn';
export { createModel, listModels, getVariant, type CreateModelOptions } from './models/registry';
export type { ModelVariant, Family } from './models/variants';
export { ResNet, Bottleneck, BasicBlock } from './models/resnet';
export { TutorialResNeXt, TutorialBottleneck, type StrideAt } from './models/tutorial';
export { summary, ModelSummary, type SummaryOptions, type SummaryTotals, type SummaryColumn } from './summary';
