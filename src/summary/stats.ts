// Parameter and mult-add figures for models, registered or not, from a meta-backend summary (instant).
import { metaBackend } from '../backend/meta';
import { buildModel, type CreateModelOptions, getVariant } from '../models/registry';
import type { ModelVariant } from '../models/variants';
import { summary } from './index';

/** Params and mult-adds of one image at the model's native input size. */
export interface ModelStats {
  params: number;
  multAddsPerImage: number;
  inputSize: number[];
}

/** Computes a model's parameter count and per-image mult-adds without any arithmetic (at `inputSize`, C,H,W; default the model's native size). */
export function modelStats(name: string, opts: CreateModelOptions = {}, inputSize?: readonly number[]): ModelStats {
  return variantStats(getVariant(name), opts, inputSize);
}

/** The same for a variant row (an experiment's arm, say), built with `opts` on the meta backend. */
export function variantStats(
  v: ModelVariant,
  opts: CreateModelOptions = {},
  inputSize?: readonly number[],
): ModelStats {
  const size = [...(inputSize ?? v.inputSize)];
  const s = summary(buildModel(v, { ...opts, backend: metaBackend }), [1, ...size]);
  return { params: s.totals.totalParams, multAddsPerImage: s.totals.totalMultAdds, inputSize: size };
}
