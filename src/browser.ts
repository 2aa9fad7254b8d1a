// ResNeXt.ts for browsers (the package's "browser" export): the portable API on the reference
// backend. Files come in as bytes (parseWeights, parseSafetensors, parseNpy, parseIdx) and go out
// as bytes (serializeSafetensors, serializeNpy, serializeOnnx); nothing here imports a Node built-in.
import './backend/browser';

export * from './portable';
