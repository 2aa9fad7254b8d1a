// Options shared by the commands that build a model (convert, forward, export, predict, bench):
// --num-classes, --stride-at, --input C,H,W, and the checkpoint → model fit.
import { totalmem } from 'node:os';
import type { Command } from 'commander';
import { metaBackend } from '../backend/meta';
import { channelStats, type ImageDataset } from '../data/dataset';
import type { WeightsFile } from '../io/weights';
import { modelFromWeights } from '../models/from-weights';
import { createModel, getVariant, modelName } from '../models/registry';
import type { StrideAt } from '../models/tutorial';
import type { ImageClassifier } from '../nn/classifier';
import { summary, type ModelSummary } from '../summary';
import type { Tensor } from '../tensor/tensor';
import { parseChoice, parsePositiveInt, parseShape, UsageError } from './util';

/** The raw option values commander hands over. */
export interface ModelFlags {
  numClasses?: string;
  strideAt?: string;
}

/** Adds --num-classes and --stride-at to a command. */
export function addModelFlags(cmd: Command): Command {
  return cmd
    .option('--num-classes <n>', "classifier size (default: read from the weights, else the model's)")
    .option('--stride-at <conv>', "where a downsampling block's stride sits: 1x1 or 3x3 (default: the model's)");
}

/** The parsed --num-classes and --stride-at (undefined when not given). */
export function parseModelFlags(flags: ModelFlags): { numClasses?: number; strideAt?: StrideAt } {
  return {
    numClasses: flags.numClasses === undefined ? undefined : parsePositiveInt('--num-classes', flags.numClasses),
    strideAt:
      flags.strideAt === undefined ? undefined : parseChoice<StrideAt>('--stride-at', flags.strideAt, ['1x1', '3x3']),
  };
}

/**
 * The input [N, C, H, W] from --input, which every command takes as C,H,W (N from the batch size)
 * or N,C,H,W. When --input is absent: the input the weights were trained on (`trained`, from their
 * recorded usage), else the model's native size. A batch size given on the command line must agree
 * with an N,C,H,W input.
 */
export function parseInputShape(
  model: string,
  input: string | undefined,
  batch: { size: number; flag: string; explicit: boolean },
  trained?: { channels: number; size: number },
): number[] {
  const fallback = trained ? [trained.channels, trained.size, trained.size] : [...getVariant(model).inputSize];
  const dims = input ? parseShape('--input', input) : fallback;
  if (dims.length === 3) return [batch.size, ...dims];
  if (dims.length !== 4) throw new UsageError(`--input '${input}' must be C,H,W or N,C,H,W`);
  if (batch.explicit && dims[0] !== batch.size) {
    throw new UsageError(
      `--input '${input}' has batch ${dims[0]} but ${batch.flag} is ${batch.size}; give one of them`,
    );
  }
  return dims;
}

/**
 * Checks a full input shape [N, C, H, W] for `model` before any tensor is allocated: shapes the
 * network cannot run are refused (the meta backend's error names the layer); inputs whose
 * activations would not fit in this machine's memory are refused with the estimate; inputs too
 * small to downsample are run with a warning, as PyTorch runs them. Returns the summary.
 */
export function checkInput(
  name: string,
  shape: number[],
  flags: { numClasses?: number; strideAt?: StrideAt } = {},
): ModelSummary {
  const meta = createModel(modelName(name), { ...flags, inChannels: shape[1], backend: metaBackend });
  const s = summary(meta, shape);
  for (const w of s.warnings) process.stderr.write(`resnext: warning: ${w}\n`);
  // torchinfo's forward/backward size counts each output twice (for gradients): once is the forward pass
  const forwardBytes = s.totals.inputBytes + s.totals.forwardBackwardBytes / 2 + s.totals.paramBytes;
  if (forwardBytes > totalmem()) {
    throw new UsageError(
      `input [${shape.join(', ')}] needs about ${(forwardBytes / 1e9).toFixed(1)} GB for one forward pass of ${name}; ` +
        `this machine has ${(totalmem() / 1e9).toFixed(1)} GB — use a smaller --input or batch`,
    );
  }
  return s;
}

/** Builds `name` (on the default backend, or meta for checks) and loads `weights` into it strictly. */
export function modelWithWeights(
  name: string,
  weights: Map<string, Tensor>,
  flags: ModelFlags,
  source: string,
  metaOnly = false,
): ImageClassifier {
  return modelFromWeights(name, weights, source, {
    ...parseModelFlags(flags),
    backend: metaOnly ? metaBackend : undefined,
  });
}

/** The normalisation inputs get for these weights: what training recorded, else the train split's statistics. */
export function normalisationFor(weights: WeightsFile, train: ImageDataset): { mean: number[]; std: number[] } {
  const input = weights.usage.input;
  return input ? { mean: input.mean, std: input.std } : channelStats(train);
}
