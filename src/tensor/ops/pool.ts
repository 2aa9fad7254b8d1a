// Pooling ops: max, average and adaptive average over [N, C, H, W].
import type { PoolGeometry } from '../../backend/contract';
import { formatShape, pair } from '../shape';
import type { Tensor } from '../tensor';
import { backendOf, expectRank, floatDtypeOf, record } from './common';

/** Window, stride (default = window), padding and ceil mode of a pooling op. */
export interface Pool2dOptions {
  kernelSize: number | [number, number];
  stride?: number | [number, number];
  padding?: number | [number, number];
  ceilMode?: boolean;
}

/** Output length of a pooling window, with PyTorch's ceil-mode rule (no window may start in the right padding). */
function poolOutputSize(input: number, k: number, s: number, p: number, ceil: boolean): number {
  const span = input + 2 * p - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= input + p) out--;
  return out;
}

/** Validates a pooling op and resolves its geometry. */
export function resolvePoolGeometry(op: string, shape: readonly number[], opts: Pool2dOptions): PoolGeometry {
  const [n, c, h, w] = shape;
  const [kh, kw] = pair(op, 'kernelSize', opts.kernelSize);
  const [strideH, strideW] = pair(op, 'stride', opts.stride ?? opts.kernelSize);
  const [padH, padW] = pair(op, 'padding', opts.padding ?? 0);
  if (kh < 1 || kw < 1 || strideH < 1 || strideW < 1)
    throw new Error(
      `${op}: kernel size and stride must be ≥ 1, got kernel [${kh}, ${kw}], stride [${strideH}, ${strideW}]`,
    );
  if (padH < 0 || padW < 0 || padH > kh / 2 || padW > kw / 2)
    throw new Error(`${op}: padding [${padH}, ${padW}] must be between 0 and half the kernel size [${kh}, ${kw}]`);
  const ceil = opts.ceilMode ?? false;
  const oh = poolOutputSize(h, kh, strideH, padH, ceil),
    ow = poolOutputSize(w, kw, strideW, padW, ceil);
  if (oh < 1 || ow < 1)
    throw new Error(
      `${op}: input ${formatShape(shape)} is too small for a ${kh}x${kw} window with padding [${padH}, ${padW}]`,
    );
  return { n, c, h, w, oh, ow, kh, kw, strideH, strideW, padH, padW };
}

/** Max pooling; the gradient goes to each window's (first) maximum. */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  expectRank('maxPool2d', 'input', x, 4, '[N, C, H, W]');
  const g = resolvePoolGeometry('maxPool2d', x.shape, opts);
  const backend = backendOf('maxPool2d', [x]),
    dtype = floatDtypeOf('maxPool2d', [x]),
    k = backend.kernels;
  return record(
    'maxPool2d',
    [x],
    k.maxPool2d(x.storage, g),
    [g.n, g.c, g.oh, g.ow],
    dtype,
    backend,
    (dy) => [dy.withStorage(k.maxPool2dBackward(dy.storage, x.storage, g), x.shape)],
    { geometry: g, ceilMode: opts.ceilMode ?? false },
  );
}

/** Average pooling (countIncludePad defaults to true, as in PyTorch); gradient spread evenly. */
export function avgPool2d(x: Tensor, opts: Pool2dOptions & { countIncludePad?: boolean }): Tensor {
  expectRank('avgPool2d', 'input', x, 4, '[N, C, H, W]');
  const g = resolvePoolGeometry('avgPool2d', x.shape, opts);
  const cip = opts.countIncludePad ?? true;
  const backend = backendOf('avgPool2d', [x]),
    dtype = floatDtypeOf('avgPool2d', [x]),
    k = backend.kernels;
  return record(
    'avgPool2d',
    [x],
    k.avgPool2d(x.storage, g, cip),
    [g.n, g.c, g.oh, g.ow],
    dtype,
    backend,
    (dy) => [dy.withStorage(k.avgPool2dBackward(dy.storage, g, cip), x.shape)],
    { geometry: g, ceilMode: opts.ceilMode ?? false, countIncludePad: cip },
  );
}

/** Adaptive average pooling to outputSize (int or [h, w]). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | [number, number]): Tensor {
  expectRank('adaptiveAvgPool2d', 'input', x, 4, '[N, C, H, W]');
  const [oh, ow] = pair('adaptiveAvgPool2d', 'outputSize', outputSize);
  const [n, c, h, w] = x.shape;
  if (oh < 1 || ow < 1) throw new Error(`adaptiveAvgPool2d: output size must be ≥ 1, got [${oh}, ${ow}]`);
  if (h < 1 || w < 1) throw new Error(`adaptiveAvgPool2d: input ${formatShape(x.shape)} has an empty spatial size`);
  const g: PoolGeometry = { n, c, h, w, oh, ow, kh: 0, kw: 0, strideH: 0, strideW: 0, padH: 0, padW: 0 };
  const backend = backendOf('adaptiveAvgPool2d', [x]),
    dtype = floatDtypeOf('adaptiveAvgPool2d', [x]),
    k = backend.kernels;
  return record(
    'adaptiveAvgPool2d',
    [x],
    k.adaptiveAvgPool2d(x.storage, g),
    [n, c, oh, ow],
    dtype,
    backend,
    (dy) => [dy.withStorage(k.adaptiveAvgPool2dBackward(dy.storage, g), x.shape)],
    { outputSize: [oh, ow] },
  );
}
