// What a weights file needs to be used, stored in its safetensors metadata by `train`: the model
// name, the input (channels, size) with its normalisation, and the class names. Every command that
// reads weights (predict, eval) reads it back, validated; files without it (torchvision's) fall
// back to ImageNet's conventions.
import { failFor } from './errors';
import { isJsonObject, parseJsonStrict } from './json';

/** How to feed a model and name its outputs. */
export interface WeightsUsage {
  /** The registered model the weights were trained as. */
  model?: string;
  /** Input channels and square size, with the per-channel normalisation applied after scaling to [0, 1]. */
  input?: { channels: number; size: number; mean: number[]; std: number[] };
  /** Class names, by output index. */
  classes?: string[];
}

/** The metadata entries that record `usage` in a safetensors file. */
export function usageMetadata(usage: WeightsUsage): Record<string, string> {
  const out: Record<string, string> = {};
  if (usage.model) out.model = usage.model;
  if (usage.input) out.input = JSON.stringify(usage.input);
  if (usage.classes) out.classes = JSON.stringify(usage.classes);
  return out;
}

const finiteList = (v: unknown, n: number): v is number[] =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** Reads the usage recorded in a file's metadata (empty when absent); malformed entries are errors naming the file. */
export function parseUsage(metadata: ReadonlyMap<string, string>, source: string): WeightsUsage {
  const fail = failFor(source);
  const usage: WeightsUsage = {};
  if (metadata.has('model')) usage.model = metadata.get('model');
  const input = metadata.get('input');
  if (input !== undefined) {
    const v = parseJsonStrict(input, `${source}: metadata 'input'`);
    if (
      !isJsonObject(v) ||
      !count(v.channels) ||
      !count(v.size) ||
      !finiteList(v.mean, v.channels) ||
      !finiteList(v.std, v.channels)
    ) {
      fail(
        `metadata 'input' is ${input.slice(0, 80)}, expected {channels, size, mean, std} with one mean and std per channel`,
      );
    }
    usage.input = v as unknown as WeightsUsage['input'];
  }
  const classes = metadata.get('classes');
  if (classes !== undefined) {
    const v = parseJsonStrict(classes, `${source}: metadata 'classes'`);
    if (!Array.isArray(v) || !v.every((c) => typeof c === 'string'))
      fail(`metadata 'classes' is ${classes.slice(0, 80)}, expected a list of strings`);
    usage.classes = v as string[];
  }
  return usage;
}
