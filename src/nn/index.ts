// The nn layer: modules, parameters, layers and initialisers.
export * from './init';
export * from './layers';
export * from './module';
export * from './parameter';
export * from './sequential';
export { convBnAct, fusionApplies, runLayers, type Epilogue } from './fused';
