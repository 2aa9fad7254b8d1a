// conv2d: validates shapes and groups, resolves geometry, runs the kernel, records the gradient.
import type { ConvGeometry, LowPrecision } from '../../backend/contract';
import { formatShape, pair, sameDims } from '../shape';
import type { Tensor } from '../tensor';
import { isGradEnabled } from '../../autograd/engine';
import { backendOf, expectRank, floatDtypeOf, record } from './common';

/** Stride, padding, dilation (int or [h, w]) and groups of a convolution. */
export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

/** Output length of a sliding window: ⌊(in + 2·pad − dil·(k−1) − 1)/stride⌋ + 1. */
export function slidingOutputSize(input: number, kernel: number, stride: number, pad: number, dilation = 1): number {
  return Math.floor((input + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Validates a convolution's inputs and returns its resolved geometry. */
export function resolveConvGeometry(
  xShape: readonly number[],
  wShape: readonly number[],
  opts: Conv2dOptions,
): ConvGeometry {
  const [n, c, h, w] = xShape;
  const [o, cg, kh, kw] = wShape;
  const groups = opts.groups ?? 1;
  const [strideH, strideW] = pair('conv2d', 'stride', opts.stride ?? 1);
  const [padH, padW] = pair('conv2d', 'padding', opts.padding ?? 0);
  const [dilH, dilW] = pair('conv2d', 'dilation', opts.dilation ?? 1);
  if (!Number.isInteger(groups) || groups < 1)
    throw new Error(`conv2d: groups must be a positive integer, got ${groups}`);
  if (strideH < 1 || strideW < 1 || dilH < 1 || dilW < 1 || padH < 0 || padW < 0) {
    throw new Error(
      `conv2d: stride and dilation must be ≥ 1 and padding ≥ 0, got stride [${strideH}, ${strideW}], padding [${padH}, ${padW}], dilation [${dilH}, ${dilW}]`,
    );
  }
  if (c % groups !== 0) throw new Error(`conv2d: input channels ${c} are not divisible by groups ${groups}`);
  if (o % groups !== 0) throw new Error(`conv2d: output channels ${o} are not divisible by groups ${groups}`);
  if (cg * groups !== c) {
    throw new Error(
      `conv2d: weight ${formatShape(wShape)} expects ${cg * groups} input channels (${cg} per group × ${groups} groups), but input ${formatShape(xShape)} has ${c}`,
    );
  }
  const oh = slidingOutputSize(h, kh, strideH, padH, dilH),
    ow = slidingOutputSize(w, kw, strideW, padW, dilW);
  if (oh < 1 || ow < 1) {
    throw new Error(
      `conv2d: input ${formatShape(xShape)} is too small: padded size ${h + 2 * padH}x${w + 2 * padW} is smaller than the kernel ${dilH * (kh - 1) + 1}x${dilW * (kw - 1) + 1}`,
    );
  }
  return { n, c, h, w, o, kh, kw, oh, ow, strideH, strideW, padH, padW, dilH, dilW, groups };
}

/**
 * 2-D convolution of x [N, C, H, W] with weight [O, C/groups, KH, KW] and optional bias [O].
 * Gradients: dx = conv_transposeᵀ(dy, W), dW = Σ dy ⋆ x (per group), db = Σ_{n,h,w} dy.
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  expectRank('conv2d', 'input', x, 4, '[N, C, H, W]');
  expectRank('conv2d', 'weight', weight, 4, '[O, C/groups, KH, KW]');
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new Error(`conv2d: bias must have shape [${weight.shape[0]}], got ${formatShape(bias.shape)}`);
  }
  const g = resolveConvGeometry(x.shape, weight.shape, opts);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const backend = backendOf('conv2d', inputs),
    dtype = floatDtypeOf('conv2d', inputs);
  const k = backend.kernels;
  const y = k.conv2d(x.storage, weight.storage, bias ? bias.storage : null, g);
  return record(
    'conv2d',
    inputs,
    y,
    [g.n, g.o, g.oh, g.ow],
    dtype,
    backend,
    (dy, needs) => [
      needs[0] ? dy.withStorage(k.conv2dBackwardData(dy.storage, weight.storage, g), x.shape) : null,
      needs[1] ? dy.withStorage(k.conv2dBackwardWeight(dy.storage, x.storage, g), weight.shape) : null,
      bias && needs[2]
        ? dy.withStorage(k.channelSum(dy.storage, { n: g.n, c: g.o, hw: g.oh * g.ow }), bias.shape)
        : null,
    ],
    { geometry: g, weight, bias },
  );
}

/**
 * Inference-only convolution with its epilogue fused: relu?(conv2d(x, weight) + bias + residual?).
 * BatchNorm is folded into weight and bias by the caller (see nn/inference.ts). No gradient: it
 * refuses inputs that require one while autograd is on. `precision` runs it in bf16 or int8
 * (contract.ts LowPrecision; an int8 weight holds the integers).
 */
export function conv2dFused(
  x: Tensor,
  weight: Tensor,
  bias: Tensor,
  residual: Tensor | null,
  relu: boolean,
  opts: Conv2dOptions = {},
  precision?: LowPrecision,
): Tensor {
  expectRank('conv2dFused', 'input', x, 4, '[N, C, H, W]');
  expectRank('conv2dFused', 'weight', weight, 4, '[O, C/groups, KH, KW]');
  if (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])
    throw new Error(`conv2dFused: bias must have shape [${weight.shape[0]}], got ${formatShape(bias.shape)}`);
  const g = resolveConvGeometry(x.shape, weight.shape, opts);
  const outShape = [g.n, g.o, g.oh, g.ow];
  if (residual && !sameDims(residual.shape, outShape)) {
    throw new Error(
      `conv2dFused: residual ${formatShape(residual.shape)} does not match the output ${formatShape(outShape)}`,
    );
  }
  const inputs = residual ? [x, weight, bias, residual] : [x, weight, bias];
  if (isGradEnabled() && inputs.some((t) => t.requiresGrad))
    throw new Error('conv2dFused: inference only; run it under noGrad() or use conv2d');
  const backend = backendOf('conv2dFused', inputs),
    dtype = floatDtypeOf('conv2dFused', inputs);
  const y = backend.kernels.conv2dFused(
    x.storage,
    weight.storage,
    bias.storage,
    residual ? residual.storage : null,
    relu,
    g,
    precision,
  );
  return record(
    'conv2dFused',
    inputs,
    y,
    outShape,
    dtype,
    backend,
    () => {
      throw new Error('conv2dFused: no gradient (inference only)');
    },
    { geometry: g, relu },
  );
}
