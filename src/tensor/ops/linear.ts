// linear and matmul: y = x·Wᵀ + b.
import { formatShape } from '../shape';
import type { Tensor } from '../tensor';
import { backendOf, expectRank, floatDtypeOf, record } from './common';

/** [m, k]·[k, n]. d/da = g·bᵀ, d/db = aᵀ·g. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  expectRank('matmul', 'a', a, 2, '[m, k]');
  expectRank('matmul', 'b', b, 2, '[k, n]');
  const [m, ka] = a.shape,
    [kb, n] = b.shape;
  if (ka !== kb) throw new Error(`matmul: inner dimensions differ: ${formatShape(a.shape)} · ${formatShape(b.shape)}`);
  const backend = backendOf('matmul', [a, b]),
    dtype = floatDtypeOf('matmul', [a, b]),
    k = backend.kernels;
  return record(
    'matmul',
    [a, b],
    k.matmul(a.storage, b.storage, m, ka, n, false, false),
    [m, n],
    dtype,
    backend,
    (g, needs) => [
      needs[0] ? g.withStorage(k.matmul(g.storage, b.storage, m, n, ka, false, true), a.shape) : null,
      needs[1] ? g.withStorage(k.matmul(a.storage, g.storage, ka, m, n, true, false), b.shape) : null,
    ],
  );
}

/**
 * x [N, in] · weight [out, in]ᵀ + bias [out].
 * dx = g·W, dW = gᵀ·x, db = Σ_rows g.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  expectRank('linear', 'input', x, 2, '[N, in_features]');
  expectRank('linear', 'weight', weight, 2, '[out_features, in_features]');
  const [rows, inF] = x.shape,
    [outF, wIn] = weight.shape;
  if (inF !== wIn)
    throw new Error(
      `linear: input ${formatShape(x.shape)} has ${inF} features but weight ${formatShape(weight.shape)} expects ${wIn}`,
    );
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outF))
    throw new Error(`linear: bias must have shape [${outF}], got ${formatShape(bias.shape)}`);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const backend = backendOf('linear', inputs),
    dtype = floatDtypeOf('linear', inputs),
    k = backend.kernels;
  let y = k.matmul(x.storage, weight.storage, rows, inF, outF, false, true);
  if (bias) y = k.addRowBias(y, bias.storage, rows, outF);
  return record(
    'linear',
    inputs,
    y,
    [rows, outF],
    dtype,
    backend,
    (g, needs) => [
      needs[0] ? g.withStorage(k.matmul(g.storage, weight.storage, rows, outF, inF, false, false), x.shape) : null,
      needs[1] ? g.withStorage(k.matmul(g.storage, x.storage, outF, rows, inF, true, false), weight.shape) : null,
      bias && needs[2] ? g.withStorage(k.channelSum(g.storage, { n: rows, c: outF, hw: 1 }), bias.shape) : null,
    ],
    { weight, bias },
  );
}
