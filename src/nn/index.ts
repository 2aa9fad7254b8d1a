// The nn layer: modules, parameters, layers and initialisers.
export * from './init';
export * from './layers';
export * from './module';
export * from './parameter';
export * from './sequential';
export {
  prepareForInference,
  type InferenceOptions,
  type InferencePrecision,
  type QuantizedConv,
} from './inference';
export { calibrate, quantizeModel, type ActivationRange, type ConvRanges } from './quantize';
export { ResidualBlock } from './residual';
export { ImageClassifier } from './classifier';
