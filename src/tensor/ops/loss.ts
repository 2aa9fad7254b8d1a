// Classification ops: log-softmax, softmax, cross-entropy with label smoothing.
import { formatShape } from '../shape';
import { Tensor } from '../tensor';
import { backendOf, expectRank, floatDtypeOf, record } from './common';
import { mean, sum } from './elementwise';

/** Row-wise log-softmax of [N, C] logits. dx = g − softmax·Σg. */
export function logSoftmax(x: Tensor): Tensor {
  expectRank('logSoftmax', 'input', x, 2, '[N, C]');
  const [rows, cols] = x.shape;
  const backend = backendOf('logSoftmax', [x]),
    dtype = floatDtypeOf('logSoftmax', [x]),
    k = backend.kernels;
  const y = k.logSoftmax(x.storage, rows, cols);
  return record('logSoftmax', [x], y, x.shape, dtype, backend, (g) => [
    g.withStorage(k.logSoftmaxBackward(g.storage, y, rows, cols)),
  ]);
}

/** Row-wise softmax of [N, C] logits, as exp(logSoftmax(x)). d exp(u) = g·e^u. */
export function softmax(x: Tensor): Tensor {
  const lsm = logSoftmax(x);
  const backend = lsm.backend,
    k = backend.kernels;
  const y = k.exp(lsm.storage);
  return record('exp', [lsm], y, x.shape, lsm.dtype, backend, (g) => [g.withStorage(k.mul(g.storage, y))]);
}

/** Class targets: integers in [0, C). */
export type Targets = Int32Array | readonly number[] | Tensor;

/** Validates targets against [N, C] logits and returns them as Int32Array. */
export function resolveTargets(op: string, targets: Targets, rows: number, cols: number): Int32Array {
  const values = targets instanceof Tensor ? targets.toArray() : targets;
  if (values.length !== rows) throw new Error(`${op}: ${values.length} targets for ${rows} rows of logits`);
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const t = values[i];
    if (!Number.isInteger(t) || t < 0 || t >= cols)
      throw new Error(`${op}: target ${t} at row ${i} is not a class index in [0, ${cols})`);
    out[i] = t;
  }
  return out;
}

/** Options of crossEntropy (PyTorch's names and defaults). */
export interface CrossEntropyOptions {
  labelSmoothing?: number;
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Cross-entropy of [N, C] logits against class targets, with label smoothing ε:
 * loss_i = (1−ε)·(−log p[i, t_i]) + ε·mean_j(−log p[i, j]).
 * Gradient: d logp = −g·((1−ε)·onehot + ε/C), then through log-softmax.
 */
export function crossEntropy(logits: Tensor, targets: Targets, opts: CrossEntropyOptions = {}): Tensor {
  expectRank('crossEntropy', 'logits', logits, 2, '[N, C]');
  const [rows, cols] = logits.shape;
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  if (rows === 0) throw new Error(`crossEntropy: logits ${formatShape(logits.shape)} hold no rows`);
  const t = logits.backend.hasData ? resolveTargets('crossEntropy', targets, rows, cols) : new Int32Array(rows);
  const logp = logSoftmax(logits);
  const backend = logp.backend,
    k = backend.kernels;
  const perRow = record(
    'nllLoss',
    [logp],
    k.nllLoss(logp.storage, t, rows, cols, eps),
    [rows],
    logp.dtype,
    backend,
    (g) => [g.withStorage(k.nllLossBackward(g.storage, t, rows, cols, eps), logp.shape)],
  );
  const reduction = opts.reduction ?? 'mean';
  return reduction === 'none' ? perRow : reduction === 'sum' ? sum(perRow) : mean(perRow);
}
