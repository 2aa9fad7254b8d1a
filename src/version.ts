// The package's version, for `resnext --version` and the ONNX producer field (a test holds it
// equal to package.json's, which the browser bundle cannot read).
export const VERSION = '0.1.0';
