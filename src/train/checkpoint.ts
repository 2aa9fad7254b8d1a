// Training checkpoints: model state, optimizer state and the run's position (epoch, batch, step,
// partial metrics, config — every random draw derives from the seed) in one safetensors file
// with JSON metadata, written atomically.
import { existsSync, readFileSync } from 'node:fs';
import { parseSafetensors, safetensorsMetadata, saveSafetensors } from '../io/safetensors';
import type { Tensor } from '../tensor/tensor';

/** Where a run stands, plus what it was started with. */
export interface RunState {
  /** Registered model name and class count. */
  model: string;
  numClasses: number;
  /** The dataset spec the run trains on. */
  data: string;
  /** The epoch to continue in, and its first batch not yet trained. */
  epoch: number;
  batch: number;
  /** Optimizer steps taken. */
  step: number;
  /** Sums over the batches of the current epoch trained so far. */
  partial: { loss: number; correct: number; seen: number; seconds: number };
  /** The run's configuration (hyper-parameters, seed). */
  config: Record<string, unknown>;
  optimizer: Record<string, unknown>;
}

/** Writes model + optimizer tensors and the run state to `path` atomically. */
export function saveCheckpoint(path: string, model: Map<string, Tensor>, optimizer: Map<string, Tensor>, state: RunState): void {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of model) tensors.set(`model.${k}`, t);
  for (const [k, t] of optimizer) tensors.set(`optim.${k}`, t);
  saveSafetensors(path, tensors, { format: 'resnext-ts-checkpoint', run: JSON.stringify(state) });
}

/** Reads a checkpoint written by saveCheckpoint. */
export function loadCheckpoint(path: string): { model: Map<string, Tensor>; optimizer: Map<string, Tensor>; state: RunState } {
  if (!existsSync(path)) throw new Error(`${path}: no checkpoint to resume from`);
  const buf = readFileSync(path);
  const tensors = parseSafetensors(buf, path);
  const meta = safetensorsMetadata(buf);
  if (meta.format !== 'resnext-ts-checkpoint' || !meta.run) throw new Error(`${path}: not a resnext training checkpoint (no run metadata)`);
  const pick = (prefix: string) => new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  return { model: pick('model.'), optimizer: pick('optim.'), state: JSON.parse(meta.run) as RunState };
}
