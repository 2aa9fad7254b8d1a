// Training checkpoints: model state, optimizer state and the run's position (epoch, batch, step,
// partial metrics, config — every random draw derives from the seed) in one safetensors file
// with JSON metadata, written atomically. Each tensor carries a CRC-32 and the run state is
// validated on load, so a damaged checkpoint is refused instead of resumed.
import { crc32 } from '../io/crc32';
import { failFor } from '../io/errors';
import { readFileChecked } from '../io/files';
import { isCount, isJsonObject, parseJsonStrict } from '../io/json';
import { readSafetensors, tensorBytes } from '../io/safetensors';
import { saveSafetensors } from '../io/load-save';
import { CHECKPOINT_FORMAT, splitCheckpoint } from '../io/weights';
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

/**
 * Writes model + optimizer tensors, the run state and a CRC-32 per tensor to `path` atomically;
 * `extra` metadata (e.g. the weights' usage) rides along.
 */
export function saveCheckpoint(
  path: string,
  model: Map<string, Tensor>,
  optimizer: Map<string, Tensor>,
  state: RunState,
  extra: Record<string, string> = {},
): void {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of model) tensors.set(`model.${k}`, t);
  for (const [k, t] of optimizer) tensors.set(`optim.${k}`, t);
  const checksums = [...tensors].map(([k, t]) => [k, crc32(tensorBytes(t)).toString(16).padStart(8, '0')]);
  saveSafetensors(path, tensors, {
    ...extra,
    format: CHECKPOINT_FORMAT,
    run: JSON.stringify(state),
    crc32: JSON.stringify(Object.fromEntries(checksums)),
  });
}

/** What a run must agree with for a checkpoint to be resumed. */
export interface ResumeExpectations {
  /** Optimizer steps per epoch. */
  stepsPerEpoch: number;
  epochs: number;
}

/** Validates a run state read from a file: types, ranges, and step = epoch · stepsPerEpoch + batch. */
function validateState(raw: unknown, fail: (m: string) => never, expect: ResumeExpectations): RunState {
  if (!isJsonObject(raw)) return fail('run state is not a JSON object');
  for (const k of ['model', 'data'] as const)
    if (typeof raw[k] !== 'string') fail(`run state '${k}' is ${JSON.stringify(raw[k])}, expected a string`);
  for (const k of ['numClasses', 'epoch', 'batch', 'step'] as const)
    if (!isCount(raw[k])) fail(`run state '${k}' is ${JSON.stringify(raw[k])}, expected a non-negative integer`);
  const p = raw.partial;
  if (
    !isJsonObject(p) ||
    !['loss', 'correct', 'seen', 'seconds'].every(
      (k) => typeof p[k] === 'number' && Number.isFinite(p[k]) && (p[k] as number) >= 0,
    )
  ) {
    fail(`run state 'partial' is ${JSON.stringify(p)}, expected finite non-negative loss, correct, seen, seconds`);
  }
  if (!isJsonObject(raw.config) || !isJsonObject(raw.optimizer))
    fail("run state 'config' and 'optimizer' must be objects");
  const { epoch, batch, step } = raw as unknown as RunState;
  // batch = stepsPerEpoch is a stop after an epoch's last step, before its evaluation
  if (batch > expect.stepsPerEpoch)
    fail(`run state batch ${batch} is beyond the ${expect.stepsPerEpoch} batches of an epoch`);
  if (epoch > expect.epochs) fail(`run state epoch ${epoch} is beyond the run's ${expect.epochs} epochs`);
  if (step !== epoch * expect.stepsPerEpoch + batch) {
    fail(
      `run state step ${step} does not match epoch ${epoch} and batch ${batch} at ${expect.stepsPerEpoch} steps per epoch`,
    );
  }
  return raw as unknown as RunState;
}

/** Reads and verifies a checkpoint written by saveCheckpoint (every CRC-32, the run state). */
export function loadCheckpoint(
  path: string,
  expect: ResumeExpectations,
): { model: Map<string, Tensor>; optimizer: Map<string, Tensor>; state: RunState } {
  const fail = failFor(path);
  const { tensors, metadata } = readSafetensors(readFileChecked(path), path);
  if (metadata.get('format') !== CHECKPOINT_FORMAT || !metadata.has('run'))
    fail('not a resnext training checkpoint (no run metadata)');
  const sums = metadata.has('crc32') ? parseJsonStrict(metadata.get('crc32')!, `${path}: crc32 metadata`) : null;
  if (!isJsonObject(sums))
    return fail('has no per-tensor checksums (crc32 metadata); it was not written by this version or is damaged');
  for (const [name, t] of tensors) {
    const want = sums[name],
      got = crc32(tensorBytes(t)).toString(16).padStart(8, '0');
    if (want !== got)
      fail(`tensor '${name}' has CRC-32 ${got}, the checkpoint recorded ${want ?? 'none'} (the file is damaged)`);
  }
  for (const name of Object.keys(sums))
    if (!tensors.has(name)) fail(`tensor '${name}' is missing (the checkpoint recorded it)`);
  const state = validateState(parseJsonStrict(metadata.get('run')!, `${path}: run metadata`), fail, expect);
  return { ...splitCheckpoint(tensors), state };
}
