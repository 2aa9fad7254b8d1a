// One entry point for weight files: safetensors, PyTorch zip or legacy checkpoints — by content.
import { readFileChecked } from './files';
import type { Tensor } from '../tensor/tensor';
import { parseSafetensors } from './safetensors';
import { parseTorchCheckpoint } from './torch-checkpoint';

/** Reads named tensors from a .safetensors, .pth/.pt (zip) or legacy torch.save file. */
export function loadWeights(path: string): Map<string, Tensor> {
  const buf = readFileChecked(path);
  const zip = buf.length >= 4 && buf.readUInt32LE(0) === 0x04034b50;
  const pickle = buf.length >= 2 && buf[0] === 0x80 && buf[1] >= 2 && buf[1] <= 5;
  return zip || pickle ? parseTorchCheckpoint(buf, path) : parseSafetensors(buf, path);
}
