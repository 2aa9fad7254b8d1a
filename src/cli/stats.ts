// Parameter and mult-add figures for registered models, from a meta-backend summary (instant).
import { metaBackend } from '../backend/meta';
import { createModel, getVariant, type CreateModelOptions } from '../models/registry';
import { summary } from '../summary';

/** Params and mult-adds of one image at the model's native input size. */
export interface ModelStats { params: number; multAddsPerImage: number; inputSize: number[]; }

/** Computes a model's parameter count and per-image mult-adds without any arithmetic. */
export function modelStats(name: string, opts: CreateModelOptions = {}): ModelStats {
  const v = getVariant(name);
  const model = createModel(name, { ...opts, backend: metaBackend });
  const s = summary(model, [1, ...v.inputSize]);
  return { params: s.totals.totalParams, multAddsPerImage: s.totals.totalMultAdds, inputSize: [...v.inputSize] };
}
