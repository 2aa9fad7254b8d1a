// The nn layer: modules, parameters, layers and initialisers.
export * from './init';
export * from './layers';
export * from './module';
export * from './parameter';
export * from './sequential';
export { prepareForInference } from './inference';
export { ResidualBlock } from './residual';
export { ImageClassifier } from './classifier';
