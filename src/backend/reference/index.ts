// The reference backend: pure TypeScript kernels over typed arrays — readable, and the oracle.
import type { Backend } from '../contract';
import { conv2d, conv2dBackwardData, conv2dBackwardWeight } from './conv';
import * as ew from './elementwise';
import { batchNormBackward, batchNormForward, batchNormStats, channelSum } from './norm';
import * as pool from './pool';
import { conv2dLowPrecision } from './low-precision';
import { allocFor, type FArray } from './storage';

export type { FArray } from './storage';

/** The pure-TypeScript backend. */
export const referenceBackend: Backend<FArray> = {
  name: 'reference',
  hasData: true,
  zeros: (dtype, size) => allocFor(dtype, size),
  fromValues: (dtype, values) => {
    const s = allocFor(dtype, values.length);
    s.set(values);
    return s;
  },
  read: (s) => s.slice(),
  size: (s) => s.length,
  kernels: {
    addScaled: ew.addScaled,
    addInPlace: ew.addInPlace,
    mul: ew.mul,
    sumAll: ew.sumAll,
    expandScalar: ew.expandScalar,
    exp: ew.exp,
    relu: ew.relu,
    reluInPlace: ew.reluInPlace,
    reluBackward: ew.reluBackward,
    conv2d,
    conv2dBackwardData,
    conv2dBackwardWeight,
    channelSum,
    conv2dFused: (x, w, bias, residual, relu, g, precision) => {
      if (precision) return conv2dLowPrecision(x, w, bias, residual, relu, g, precision);
      const y = conv2d(x, w, bias, g);
      const sum = residual ? ew.addScaled(y, residual, 1, 1) : y;
      return relu ? ew.relu(sum) : sum;
    },
    batchNormStats,
    batchNormForward,
    batchNormBackward,
    maxPool2d: pool.maxPool2d,
    maxPool2dBackward: pool.maxPool2dBackward,
    avgPool2d: pool.avgPool2d,
    avgPool2dBackward: pool.avgPool2dBackward,
    adaptiveAvgPool2d: pool.adaptiveAvgPool2d,
    adaptiveAvgPool2dBackward: pool.adaptiveAvgPool2dBackward,
    matmul: ew.matmul,
    addRowBias: ew.addRowBias,
    logSoftmax: ew.logSoftmax,
    logSoftmaxBackward: ew.logSoftmaxBackward,
    nllLoss: ew.nllLoss,
    nllLossBackward: ew.nllLossBackward,
    sgdStep: ew.sgdStep,
    adamwStep: ew.adamwStep,
  },
};
