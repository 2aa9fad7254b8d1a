// Parameter and mult-add figures for registered models, from a meta-backend summary (instant).
import { metaBackend } from '../backend/meta';
import { createModel, getVariant, type CreateModelOptions, modelName } from '../models/registry';
import { summary } from './index';

/** Params and mult-adds of one image at the model's native input size. */
export interface ModelStats {
  params: number;
  multAddsPerImage: number;
  inputSize: number[];
}

/** Computes a model's parameter count and per-image mult-adds without any arithmetic (at `inputSize`, C,H,W; default the model's native size). */
export function modelStats(name: string, opts: CreateModelOptions = {}, inputSize?: readonly number[]): ModelStats {
  const size = [...(inputSize ?? getVariant(name).inputSize)];
  const model = createModel(modelName(name), { ...opts, backend: metaBackend });
  const s = summary(model, [1, ...size]);
  return { params: s.totals.totalParams, multAddsPerImage: s.totals.totalMultAdds, inputSize: size };
}
