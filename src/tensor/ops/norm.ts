// batchNorm2d: batch statistics + running-stat update in training, running stats in eval.
import { formatShape } from '../shape';
import type { Tensor } from '../tensor';
import { backendOf, expectRank, floatDtypeOf, record } from './common';

/** Running statistics and hyper-parameters of batch norm (PyTorch's defaults: momentum 0.1, eps 1e-5). */
export interface BatchNormOptions {
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  weight: Tensor | null;
  bias: Tensor | null;
  training: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * y = (x − μ)/√(σ² + ε)·γ + β per channel of x [N, C, H, W] (or [N, C]).
 * Training: μ, σ² from the batch (biased σ² for normalising); running stats become
 * (1 − m)·running + m·batch, with the unbiased σ²·M/(M−1). Gradient rule: see the kernel.
 */
export function batchNorm(x: Tensor, opts: BatchNormOptions): Tensor {
  if (x.ndim !== 2 && x.ndim !== 4) expectRank('batchNorm', 'input', x, 4, '[N, C, H, W]');
  const [n, c] = x.shape;
  const hw = x.ndim === 4 ? x.shape[2] * x.shape[3] : 1;
  const { runningMean, runningVar, weight, bias, training } = opts;
  const momentum = opts.momentum ?? 0.1,
    eps = opts.eps ?? 1e-5;
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
    ['runningMean', runningMean],
    ['runningVar', runningVar],
  ] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== c))
      throw new Error(
        `batchNorm: ${name} must have shape [${c}] for input ${formatShape(x.shape)}, got ${formatShape(t.shape)}`,
      );
  }
  const useBatchStats = training || !runningMean || !runningVar;
  const count = n * hw;
  if (useBatchStats && count <= 1)
    throw new Error(
      `batchNorm: expected more than 1 value per channel when training, got input ${formatShape(x.shape)}`,
    );
  const affine = [weight, bias].filter((t): t is Tensor => !!t);
  const inputs = [x, ...affine];
  const backend = backendOf('batchNorm', inputs),
    dtype = floatDtypeOf('batchNorm', inputs);
  const k = backend.kernels,
    geom = { n, c, hw };
  let mean: unknown, variance: unknown;
  if (useBatchStats) {
    ({ mean, variance } = k.batchNormStats(x.storage, geom));
    // Update running stats only when they live on the backend doing the work (a meta dry run leaves them alone).
    if (training && runningMean && runningVar && runningMean.backend === backend) {
      runningMean.storage = k.addScaled(runningMean.storage, mean, 1 - momentum, momentum);
      runningVar.storage = k.addScaled(runningVar.storage, variance, 1 - momentum, (momentum * count) / (count - 1));
    }
  } else {
    mean = runningMean!.storage;
    variance = runningVar!.storage;
  }
  const y = k.batchNormForward(
    x.storage,
    mean,
    variance,
    weight ? weight.storage : null,
    bias ? bias.storage : null,
    eps,
    geom,
  );
  return record(
    'batchNorm',
    inputs,
    y,
    x.shape,
    dtype,
    backend,
    (dy) => {
      const grads = k.batchNormBackward(
        dy.storage,
        x.storage,
        mean,
        variance,
        weight ? weight.storage : null,
        eps,
        useBatchStats,
        geom,
      );
      const out: (Tensor | null)[] = [dy.withStorage(grads.dx, x.shape)];
      if (weight) out.push(dy.withStorage(grads.dgamma, [c]));
      if (bias) out.push(dy.withStorage(grads.dbeta, [c]));
      return out;
    },
    { training: useBatchStats, eps, momentum, weight, bias, runningMean, runningVar },
  );
}
