// --precision fp32 | bf16 | int8 for the commands that run inference (predict, eval, forward,
// bench): reading int8 model files, choosing what runs, and saying so when the hardware cannot
// run the requested precision fast (then float32 runs, never a silent slow path).
import type { Command } from 'commander';
import type { Backend } from '../backend/contract';
import { isInt8File, readInt8ModelFile } from '../io/int8-weights';
import { readWeightsFile } from '../io/load-save';
import type { WeightsFile } from '../io/weights';
import type { ImageClassifier } from '../nn/classifier';
import type { InferenceOptions, InferencePrecision } from '../nn/inference';
import { modelWithWeights, type ModelFlags } from './model-options';
import { parseChoice, UsageError } from './util';

const PRECISIONS: readonly InferencePrecision[] = ['fp32', 'bf16', 'int8'];

/** Adds --precision to a command. */
export function addPrecisionOption(
  cmd: Command,
  int8Default = 'int8 for weights made by `resnext quantize`, else fp32',
): Command {
  return cmd.option(
    '--precision <p>',
    'fused convolutions in fp32, bf16 (AVX-512 BF16) or int8 (AVX-512 VNNI; weights from `resnext quantize`) ' +
      `(default: ${int8Default})`,
  );
}

/** The parsed --precision (undefined when not given). */
export function parsePrecision(text: string | undefined): InferencePrecision | undefined {
  return text === undefined ? undefined : parseChoice('--precision', text, PRECISIONS);
}

/**
 * What runs for a requested precision on `backend`: the request when the backend runs it fast,
 * else fp32 with a warning on stderr that says why and what runs instead (`int8Weights`: the
 * weights are an int8 model file's, run dequantised).
 */
export function runnablePrecision(
  requested: InferencePrecision,
  backend: Backend<unknown>,
  int8Weights = false,
): InferencePrecision {
  if (requested === 'fp32') return requested;
  const fast = backend.fastPrecisions?.();
  if (fast?.[requested]) return requested;
  const why = fast
    ? `this CPU (${fast.hardware}) lacks ${requested === 'bf16' ? 'AVX-512 BF16' : 'AVX-512 VNNI'}, ` +
      `which oneDNN's fast ${requested} kernels need`
    : `the ${backend.name} backend has no ${requested} kernels`;
  const instead = int8Weights ? 'running the int8 weights dequantised in float32 instead' : 'running float32 instead';
  process.stderr.write(`resnext: warning: --precision ${requested}: ${why}; ${instead}\n`);
  return 'fp32';
}

/** A model loaded from a weights file (float32 or int8) with its fused inference planned. */
export interface InferenceModel {
  model: ImageClassifier;
  weights: WeightsFile;
  /** What runs (after runnablePrecision). */
  precision: InferencePrecision;
  inference: InferenceOptions;
}

/**
 * Loads `path` into `name` for inference at --precision (default: int8 for an int8 model file,
 * else fp32). An int8 file loads as its float32 equivalent plus the int8 table; --precision int8
 * with float32 weights is a usage error that says how to make int8 ones.
 */
export function loadInferenceModel(
  name: string,
  path: string,
  flags: ModelFlags & { precision?: string },
): InferenceModel {
  const weights = readWeightsFile(path);
  const int8 = isInt8File(weights.metadata) ? readInt8ModelFile(weights.tensors, weights.metadata, path) : null;
  const requested = parsePrecision(flags.precision) ?? (int8 ? 'int8' : 'fp32');
  if (requested === 'int8' && !int8) {
    throw new UsageError(
      `--precision int8 needs int8 weights, and ${path} holds float32 ones; make them with ` +
        `\`resnext quantize ${name} --weights ${path} --calibrate <data> --out ${name}-int8.safetensors\``,
    );
  }
  const model = modelWithWeights(name, int8 ? int8.stateDict : weights.tensors, flags, path);
  const precision = runnablePrecision(requested, model.fc.weight.backend, int8 !== null);
  const inference: InferenceOptions = { precision, quantized: int8?.quantized };
  return { model, weights, precision, inference };
}
