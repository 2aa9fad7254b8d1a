// Finite-difference gradcheck (float64) for every gradient rule, grouped conv in many geometries.
import { describe, it } from 'node:test';
import { randn } from '../src/tensor/create';
import * as F from '../src/tensor/ops';
import { Generator } from '../src/tensor/random';
import { gradcheck } from './helpers';

const gen = new Generator(42);
const r = (shape: number[]) => randn(shape, { dtype: 'float64', generator: gen });

describe('gradcheck: conv2d', () => {
  const cases: {
    c: number;
    o: number;
    k: number;
    stride: number;
    padding: number;
    groups: number;
    hw: number;
    bias?: boolean;
    dilation?: number;
  }[] = [
    { c: 3, o: 4, k: 3, stride: 1, padding: 1, groups: 1, hw: 6, bias: true },
    { c: 4, o: 6, k: 3, stride: 2, padding: 1, groups: 2, hw: 7 },
    { c: 8, o: 8, k: 3, stride: 1, padding: 0, groups: 4, hw: 6 },
    { c: 6, o: 6, k: 3, stride: 2, padding: 1, groups: 6, hw: 5 }, // depthwise
    { c: 4, o: 8, k: 1, stride: 1, padding: 0, groups: 1, hw: 5, bias: true },
    { c: 4, o: 8, k: 1, stride: 2, padding: 0, groups: 2, hw: 6 },
    { c: 2, o: 4, k: 7, stride: 2, padding: 3, groups: 1, hw: 9 },
    { c: 4, o: 4, k: 7, stride: 1, padding: 3, groups: 4, hw: 8 },
    { c: 4, o: 4, k: 3, stride: 1, padding: 2, groups: 2, hw: 7, dilation: 2 },
  ];
  for (const cs of cases) {
    it(`c${cs.c} o${cs.o} k${cs.k} s${cs.stride} p${cs.padding} g${cs.groups}${cs.dilation ? ` d${cs.dilation}` : ''}${cs.bias ? ' +bias' : ''}`, () => {
      const x = r([2, cs.c, cs.hw, cs.hw]),
        w = r([cs.o, cs.c / cs.groups, cs.k, cs.k]);
      const opts = { stride: cs.stride, padding: cs.padding, groups: cs.groups, dilation: cs.dilation ?? 1 };
      if (cs.bias) gradcheck('conv2d', (a, b, c) => F.conv2d(a, b, c, opts), [x, w, r([cs.o])]);
      else gradcheck('conv2d', (a, b) => F.conv2d(a, b, null, opts), [x, w]);
    });
  }
});

describe('gradcheck: normalisation, activations, pooling', () => {
  it('batchNorm (training: batch statistics)', () => {
    gradcheck(
      'batchNorm',
      (x, g, b) => F.batchNorm(x, { runningMean: null, runningVar: null, weight: g, bias: b, training: true }),
      [r([3, 4, 3, 3]), r([4]), r([4])],
    );
  });
  it('batchNorm (eval: running statistics)', () => {
    const mean = r([4]),
      variance = randn([4], { dtype: 'float64', generator: gen });
    const rv = variance.withStorage(Float64Array.from(variance.toArray(), (v) => v * v + 0.5));
    gradcheck(
      'batchNorm',
      (x, g, b) => F.batchNorm(x, { runningMean: mean, runningVar: rv, weight: g, bias: b, training: false }),
      [r([2, 4, 3, 3]), r([4]), r([4])],
    );
  });
  it('relu', () => gradcheck('relu', (x) => F.relu(x), [r([2, 3, 4, 4])]));
  it('maxPool2d 3/2 pad 1', () =>
    gradcheck('maxPool2d', (x) => F.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), [r([2, 2, 7, 7])]));
  it('maxPool2d 2/2 ceil mode', () =>
    gradcheck('maxPool2d', (x) => F.maxPool2d(x, { kernelSize: 2, ceilMode: true }), [r([1, 2, 5, 5])]));
  it('avgPool2d 3/2 pad 1', () =>
    gradcheck('avgPool2d', (x) => F.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), [r([2, 2, 6, 6])]));
  it('avgPool2d without count_include_pad', () =>
    gradcheck('avgPool2d', (x) => F.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }), [
      r([1, 2, 5, 5]),
    ]));
  it('adaptiveAvgPool2d to 1x1 and to 3x2', () => {
    gradcheck('adaptiveAvgPool2d', (x) => F.adaptiveAvgPool2d(x, 1), [r([2, 3, 5, 5])]);
    gradcheck('adaptiveAvgPool2d', (x) => F.adaptiveAvgPool2d(x, [3, 2]), [r([1, 2, 7, 5])]);
  });
});

describe('gradcheck: linear algebra, losses, elementwise', () => {
  it('linear with bias', () => gradcheck('linear', (x, w, b) => F.linear(x, w, b), [r([3, 5]), r([4, 5]), r([4])]));
  it('matmul', () => gradcheck('matmul', (a, b) => F.matmul(a, b), [r([3, 4]), r([4, 2])]));
  it('logSoftmax and softmax', () => {
    gradcheck('logSoftmax', (x) => F.logSoftmax(x), [r([3, 5])]);
    gradcheck('softmax', (x) => F.softmax(x), [r([3, 5])]);
  });
  it('crossEntropy, plain and with label smoothing, mean and sum', () => {
    gradcheck('crossEntropy', (x) => F.crossEntropy(x, [0, 4, 2]), [r([3, 5])]);
    gradcheck('crossEntropy', (x) => F.crossEntropy(x, [1, 1, 3], { labelSmoothing: 0.2, reduction: 'sum' }), [
      r([3, 5]),
    ]);
  });
  it('add, sub, mul, scale, sum, mean', () => {
    gradcheck('add', (a, b) => F.add(a, b), [r([2, 3]), r([2, 3])]);
    gradcheck('sub', (a, b) => F.sub(a, b), [r([2, 3]), r([2, 3])]);
    gradcheck('mul', (a, b) => F.mul(a, b), [r([2, 3]), r([2, 3])]);
    gradcheck('scale', (a) => F.scale(a, -2.5), [r([4])]);
    gradcheck('sum', (a) => F.sum(a), [r([2, 3])]);
    gradcheck('mean', (a) => F.mean(a), [r([2, 3])]);
  });
  it('reshape and flatten', () => {
    gradcheck('flatten', (a) => F.mul(F.flatten(a, 1), F.flatten(a, 1)), [r([2, 3, 2, 2])]);
    gradcheck('reshape', (a) => a.reshape([3, -1]), [r([2, 3, 2])]);
  });
  it('a composed block: conv → BN → ReLU → residual add → pool → linear → cross-entropy', () => {
    const w2 = r([4, 2, 3, 3]);
    gradcheck(
      'block',
      (x, w, fcw) => {
        const h = F.relu(
          F.batchNorm(F.conv2d(x, w, null, { padding: 1, groups: 2 }), {
            runningMean: null,
            runningVar: null,
            weight: null,
            bias: null,
            training: true,
          }),
        );
        const pooled = F.flatten(F.adaptiveAvgPool2d(F.add(h, x), 1), 1);
        return F.crossEntropy(F.linear(pooled, fcw), [1, 0], { labelSmoothing: 0.1 });
      },
      [r([2, 4, 4, 4]), w2, r([3, 4])],
    );
  });
});
