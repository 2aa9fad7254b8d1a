// Elementwise and reduction ops: add, sub, mul, scale, relu, sum, mean.
import { formatShape, sameDims } from '../shape';
import type { Tensor } from '../tensor';
import { backendOf, floatDtypeOf, record } from './common';

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (!sameDims(a.shape, b.shape))
    throw new Error(
      `${op}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} differ (broadcasting is not supported)`,
    );
}

/** alpha·a + beta·b (same shapes). d/da = alpha, d/db = beta. */
export function addScaled(a: Tensor, b: Tensor, alpha = 1, beta = 1): Tensor {
  sameShape('add', a, b);
  const backend = backendOf('add', [a, b]),
    dtype = floatDtypeOf('add', [a, b]);
  const k = backend.kernels;
  return record(
    'add',
    [a, b],
    k.addScaled(a.storage, b.storage, alpha, beta),
    a.shape,
    dtype,
    backend,
    (g, needs) => [
      needs[0] ? (alpha === 1 ? g : g.withStorage(k.addScaled(g.storage, null, alpha, 0))) : null,
      needs[1] ? (beta === 1 ? g : g.withStorage(k.addScaled(g.storage, null, beta, 0))) : null,
    ],
    { alpha, beta },
  );
}

/**
 * a + b. With `inPlace` (PyTorch's `a += b`) the sum is written over a's storage: for an `a` nothing
 * else reads, such as a residual block's last BatchNorm output, it saves one activation per block.
 */
export function add(a: Tensor, b: Tensor, opts: { inPlace?: boolean } = {}): Tensor {
  if (!opts.inPlace) return addScaled(a, b, 1, 1);
  sameShape('add', a, b);
  if (a.requiresGrad && !a.gradFn)
    throw new Error('add: an in-place sum cannot overwrite a leaf that requires grad (a parameter or input)');
  const backend = backendOf('add', [a, b]),
    dtype = floatDtypeOf('add', [a, b]);
  const y = backend.kernels.addInPlace(a.storage, b.storage);
  return record('add', [a, b], y, a.shape, dtype, backend, (g, needs) => [needs[0] ? g : null, needs[1] ? g : null], {
    alpha: 1,
    beta: 1,
  });
}

/** a − b. */
export function sub(a: Tensor, b: Tensor): Tensor {
  return addScaled(a, b, 1, -1);
}

/** a·b elementwise. d/da = g·b, d/db = g·a. */
export function mul(a: Tensor, b: Tensor): Tensor {
  sameShape('mul', a, b);
  const backend = backendOf('mul', [a, b]),
    dtype = floatDtypeOf('mul', [a, b]);
  const k = backend.kernels;
  return record('mul', [a, b], k.mul(a.storage, b.storage), a.shape, dtype, backend, (g, needs) => [
    needs[0] ? g.withStorage(k.mul(g.storage, b.storage)) : null,
    needs[1] ? g.withStorage(k.mul(g.storage, a.storage)) : null,
  ]);
}

/** alpha·x. */
export function scale(x: Tensor, alpha: number): Tensor {
  const backend = backendOf('scale', [x]),
    dtype = floatDtypeOf('scale', [x]);
  const k = backend.kernels;
  return record(
    'scale',
    [x],
    k.addScaled(x.storage, null, alpha, 0),
    x.shape,
    dtype,
    backend,
    (g) => [g.withStorage(k.addScaled(g.storage, null, alpha, 0))],
    { alpha },
  );
}

/**
 * max(x, 0). d/dx = g·[y > 0]. With `inPlace` (PyTorch's inplace=True) the result is written over x's
 * storage: for an input nothing else reads (a BatchNorm or residual sum feeding only this ReLU),
 * it saves one activation per ReLU in training.
 */
export function relu(x: Tensor, opts: { inPlace?: boolean } = {}): Tensor {
  const backend = backendOf('relu', [x]),
    dtype = floatDtypeOf('relu', [x]);
  const k = backend.kernels;
  if (opts.inPlace && x.requiresGrad && !x.gradFn)
    throw new Error('relu: an in-place ReLU cannot overwrite a leaf that requires grad (a parameter or input)');
  const y = opts.inPlace ? k.reluInPlace(x.storage) : k.relu(x.storage);
  return record('relu', [x], y, x.shape, dtype, backend, (g) => [g.withStorage(k.reluBackward(g.storage, y))]);
}

/** Σx as a scalar. d/dx = g broadcast. */
export function sum(x: Tensor): Tensor {
  const backend = backendOf('sum', [x]),
    dtype = floatDtypeOf('sum', [x]);
  const k = backend.kernels;
  return record('sum', [x], k.sumAll(x.storage), [], dtype, backend, (g) => [
    g.withStorage(k.expandScalar(g.storage, x.numel, 1), x.shape),
  ]);
}

/** Mean of all elements as a scalar. d/dx = g/n broadcast. */
export function mean(x: Tensor): Tensor {
  if (x.numel === 0) throw new Error(`mean: tensor of shape ${formatShape(x.shape)} is empty`);
  return scale(sum(x), 1 / x.numel);
}
