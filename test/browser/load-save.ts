// src/io/load-save for the browser suite: .safetensors from the files handed over, by the portable parser.
import { parseSafetensors } from '../../src/io/safetensors';
import type { Tensor } from '../../src/tensor/tensor';
import { readFileSync } from './fs';

export function loadSafetensors(path: string): Map<string, Tensor> {
  return parseSafetensors(readFileSync(path) as Uint8Array, path);
}
