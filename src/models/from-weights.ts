// A model built to fit a state dict: classes and input channels read from the weights, loaded
// strictly, and a mismatch explained with the registered models these weights do fit. Portable
// (CLI, browser page, API).
import type { Backend } from '../backend/contract';
import { metaBackend } from '../backend/meta';
import type { ImageClassifier } from '../nn/classifier';
import { describeReport } from '../nn/module';
import type { Tensor } from '../tensor/tensor';
import { createModel, listModels, modelName } from './registry';
import type { StrideAt } from './tutorial';
import type { ModelName } from './variants';

/** Classes and input channels a state dict implies (its classifier rows, its first conv's input). */
export function inferShapes(weights: Map<string, Tensor>): { numClasses?: number; inChannels?: number } {
  const fc = weights.get('fc.weight');
  const stem = weights.get('conv1.weight') ?? weights.get('conv1.0.weight');
  return { numClasses: fc?.shape[0], inChannels: stem?.ndim === 4 ? stem.shape[1] : undefined };
}

/** Registered models whose every parameter and buffer has the name and shape of one in `weights`. */
export function modelsFitting(weights: Map<string, Tensor>): ModelName[] {
  const { numClasses, inChannels } = inferShapes(weights);
  return listModels()
    .map((v) => v.name)
    .filter((name) => {
      const sd = createModel(modelName(name), { numClasses, inChannels, backend: metaBackend }).stateDict();
      const same = (k: string, t: Tensor) => weights.get(k)?.shape.join() === t.shape.join();
      return (
        [...sd].every(([k, t]) => same(k, t) || k.endsWith('num_batches_tracked')) &&
        [...weights.keys()].every((k) => sd.has(k))
      );
    });
}

/**
 * Builds `name` with the classes and input channels `weights` imply (unless given) and loads them
 * strictly; weights that do not fit are an error naming `source`, what differs, and the registered
 * models they fit.
 */
export function modelFromWeights(
  name: string,
  weights: Map<string, Tensor>,
  source: string,
  opts: { numClasses?: number; strideAt?: StrideAt; backend?: Backend } = {},
): ImageClassifier {
  const inferred = inferShapes(weights);
  const model = createModel(modelName(name), {
    numClasses: opts.numClasses ?? inferred.numClasses,
    strideAt: opts.strideAt,
    inChannels: inferred.inChannels,
    backend: opts.backend,
  });
  const report = model.loadStateDict(weights, { strict: false });
  if (report.missingKeys.length || report.unexpectedKeys.length || report.shapeMismatches.length) {
    const fits = modelsFitting(weights).filter((m) => m !== name);
    const hint = fits.length
      ? ` — these weights fit ${fits
          .slice(0, 3)
          .map((m) => `'${m}'`)
          .join(', ')}`
      : '';
    throw new Error(`${source} does not fit model '${name}'${hint}: ${describeReport(report)}`);
  }
  return model;
}
