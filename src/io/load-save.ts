// Node only: the portable parsers and serializers of io/ applied to files — read with the checks
// of files.ts, written atomically.
import type { Module } from '../nn/module';
import type { Tensor } from '../tensor/tensor';
import { FileError, readFileChecked, writeFileAtomic } from './files';
import { parseNpy, serializeNpy } from './npy';
import { type OnnxExportOptions, serializeOnnx } from './onnx-export';
import { METADATA_KEY, parseSafetensors, serializeSafetensors } from './safetensors';
import type { CheckpointOptions } from './torch-checkpoint';
import { parseWeights, readWeights, type WeightsFile } from './weights';

/** Reads a .safetensors file into named tensors. */
export function loadSafetensors(path: string): Map<string, Tensor> {
  return parseSafetensors(readFileChecked(path), path);
}

/** Writes a .safetensors file atomically (the tensors named in `int8` as I8). */
export function saveSafetensors(
  path: string,
  tensors: Map<string, Tensor>,
  metadata?: Record<string, string> | Map<string, string>,
  int8?: ReadonlySet<string>,
): void {
  if (tensors.has(METADATA_KEY))
    throw new FileError(
      `${path}: cannot write a tensor named '${METADATA_KEY}': safetensors reserves that name for metadata`,
    );
  writeFileAtomic(path, serializeSafetensors(tensors, metadata, int8));
}

/** Reads a .npy file. */
export function loadNpy(path: string): Tensor {
  return parseNpy(readFileChecked(path), path);
}

/** Writes a .npy file atomically. */
export function saveNpy(path: string, t: Tensor): void {
  writeFileAtomic(path, serializeNpy(t));
}

/** Exports `model` to an .onnx file (written atomically). */
export function saveOnnx(path: string, model: Module, opts: OnnxExportOptions): void {
  writeFileAtomic(path, serializeOnnx(model, opts));
}

/** Reads named tensors from a .safetensors, .pth/.pt (zip) or legacy torch.save file. */
export function loadWeights(path: string, opts: CheckpointOptions = {}): Map<string, Tensor> {
  return parseWeights(readFileChecked(path), path, opts);
}

/** Reads a weights file for use (see readWeights): model file, training checkpoint or PyTorch checkpoint. */
export function readWeightsFile(path: string, opts: CheckpointOptions = {}): WeightsFile {
  return readWeights(readFileChecked(path), path, opts);
}
