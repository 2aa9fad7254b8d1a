// One entry point for weight files: safetensors, PyTorch zip or legacy checkpoints — told apart by
// content, with a clear refusal for anything else (a .npy array, an old-protocol pickle, …).
import { failFor } from './errors';
import type { Tensor } from '../tensor/tensor';
import { parseSafetensors, readSafetensors } from './safetensors';
import { parseUsage, type WeightsUsage } from './usage';
import { hexBytes, isZip, parseTorchCheckpoint, type CheckpointOptions } from './torch-checkpoint';

/** What a weights buffer holds, judged by its first bytes. */
export function sniffWeights(buf: Uint8Array): 'zip' | 'pickle' | 'safetensors' | 'npy' | 'old-pickle' | 'unknown' {
  if (isZip(buf)) return 'zip';
  if (buf.length >= 2 && buf[0] === 0x80 && buf[1] >= 2 && buf[1] <= 5) return 'pickle';
  if (buf.length >= 6 && buf[0] === 0x93 && String.fromCharCode(...buf.subarray(1, 6)) === 'NUMPY') return 'npy';
  if (buf.length >= 9 && buf[8] === 0x7b && buf[6] === 0 && buf[7] === 0) return 'safetensors';
  // protocol 0/1 pickles start with an opcode such as '(' MARK, '}' EMPTY_DICT, 'c' GLOBAL or ']' EMPTY_LIST
  if (buf.length >= 2 && '(}c]'.includes(String.fromCharCode(buf[0])) && buf[buf.length - 1] === 0x2e)
    return 'old-pickle';
  return 'unknown';
}

/** Parses named tensors from the bytes of a .safetensors, .pth/.pt (zip) or legacy torch.save file. */
export function parseWeights(buf: Uint8Array, source: string, opts: CheckpointOptions = {}): Map<string, Tensor> {
  const fail = failFor(source);
  switch (sniffWeights(buf)) {
    case 'zip':
    case 'pickle':
      return parseTorchCheckpoint(buf, source, opts);
    case 'safetensors':
      return parseSafetensors(buf, source);
    case 'npy':
      return fail('is a NumPy .npy array, not a weights file; expected .safetensors or a PyTorch .pth/.pt checkpoint');
    case 'old-pickle':
      return fail(
        'is a pickle of protocol 0 or 1, which torch.save never writes; expected .safetensors or a PyTorch .pth/.pt checkpoint',
      );
    default:
      return fail(
        `is not a weights file (first bytes ${hexBytes(buf.subarray(0, 8))}); expected .safetensors or a PyTorch .pth/.pt checkpoint`,
      );
  }
}

/** The `format` metadata of a resnext-ts training checkpoint (model + optimizer tensors, run state). */
export const CHECKPOINT_FORMAT = 'resnext-ts-checkpoint';

/** A training checkpoint's tensors split by their prefixes: `model.<key>` and `optim.<key>`. */
export function splitCheckpoint(tensors: Map<string, Tensor>): {
  model: Map<string, Tensor>;
  optimizer: Map<string, Tensor>;
} {
  const pick = (prefix: string) =>
    new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  return { model: pick('model.'), optimizer: pick('optim.') };
}

/** A weights file's model tensors, what it records about using them, and what kind of file it is. */
export interface WeightsFile {
  tensors: Map<string, Tensor>;
  usage: WeightsUsage;
  kind: 'zip' | 'pickle' | 'safetensors' | 'checkpoint';
  /** The safetensors metadata (empty for PyTorch checkpoints). */
  metadata: Map<string, string>;
  /** Tensors read but left out of `tensors` (a checkpoint's optimizer state). */
  leftOut: number;
}

/**
 * Reads weights for use from a file's bytes: a model file, a training checkpoint (its `model.`
 * tensors; the optimizer state is left out) or a PyTorch checkpoint, with the usage its metadata
 * records. `path` names the file in errors.
 */
export function readWeights(buf: Uint8Array, path: string, opts: CheckpointOptions = {}): WeightsFile {
  const kind = sniffWeights(buf);
  if (kind !== 'safetensors') {
    return {
      tensors: parseWeights(buf, path, opts),
      usage: {},
      kind: kind === 'zip' ? 'zip' : 'pickle',
      metadata: new Map(),
      leftOut: 0,
    };
  }
  const { tensors, metadata } = readSafetensors(buf, path);
  const usage = parseUsage(metadata, path);
  if (metadata.get('format') !== CHECKPOINT_FORMAT) return { tensors, usage, kind, metadata, leftOut: 0 };
  const { model } = splitCheckpoint(tensors);
  return { tensors: model, usage, kind: 'checkpoint', metadata, leftOut: tensors.size - model.size };
}
