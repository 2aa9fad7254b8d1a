// The meta backend: storages carry only dtype and size, so any model runs in microseconds —
// summaries and dry runs of 100-layer networks cost nothing. Reading values is an error.
import type { Backend, DType } from '../contract';

/** A data-less storage. */
export interface MetaStorage {
  readonly dtype: DType;
  readonly size: number;
}

const meta = (dtype: DType, size: number): MetaStorage => ({ dtype, size });
/** The output keeps the first input's dtype, as every kernel does. */
const like = (s: MetaStorage, size: number): MetaStorage => meta(s.dtype, size);

/** The shapes-only backend. */
export const metaBackend: Backend<MetaStorage> = {
  name: 'meta',
  hasData: false,
  zeros: meta,
  fromValues: (dtype, values) => meta(dtype, values.length),
  read: () => {
    throw new Error('meta backend: tensors on the meta backend carry shapes only and have no values to read');
  },
  size: (s) => s.size,
  kernels: {
    addScaled: (a) => like(a, a.size),
    addInPlace: (a) => a,
    mul: (a) => like(a, a.size),
    sumAll: (a) => like(a, 1),
    expandScalar: (s, size) => like(s, size),
    exp: (x) => like(x, x.size),
    relu: (x) => like(x, x.size),
    reluInPlace: (x) => x,
    reluBackward: (dy) => like(dy, dy.size),
    conv2d: (x, _w, _b, g) => like(x, g.n * g.o * g.oh * g.ow),
    conv2dFused: (x, _w, _b, _r, _relu, g) => like(x, g.n * g.o * g.oh * g.ow),
    conv2dBackwardData: (dy, _w, g) => like(dy, g.n * g.c * g.h * g.w),
    conv2dBackwardWeight: (dy, _x, g) => like(dy, ((g.o * g.c) / g.groups) * g.kh * g.kw),
    channelSum: (x, g) => like(x, g.c),
    batchNormStats: (x, g) => ({ mean: like(x, g.c), variance: like(x, g.c) }),
    batchNormForward: (x) => like(x, x.size),
    batchNormBackward: (dy, x, _m, _v, _g, _e, _b, g) => ({
      dx: like(x, x.size),
      dgamma: like(dy, g.c),
      dbeta: like(dy, g.c),
    }),
    maxPool2d: (x, g) => like(x, g.n * g.c * g.oh * g.ow),
    maxPool2dBackward: (dy, x) => like(dy, x.size),
    avgPool2d: (x, g) => like(x, g.n * g.c * g.oh * g.ow),
    avgPool2dBackward: (dy, g) => like(dy, g.n * g.c * g.h * g.w),
    adaptiveAvgPool2d: (x, g) => like(x, g.n * g.c * g.oh * g.ow),
    adaptiveAvgPool2dBackward: (dy, g) => like(dy, g.n * g.c * g.h * g.w),
    matmul: (a, _b, m, _k, n) => like(a, m * n),
    addRowBias: (x) => like(x, x.size),
    logSoftmax: (x) => like(x, x.size),
    logSoftmaxBackward: (dy) => like(dy, dy.size),
    nllLoss: (logp, _t, rows) => like(logp, rows),
    nllLossBackward: (dloss, _t, rows, cols) => like(dloss, rows * cols),
    sgdStep: (param, _g, buf, h) => ({
      param,
      momentumBuffer: h.momentum !== 0 ? (buf ?? like(param, param.size)) : null,
    }),
    adamwStep: (param, _g, expAvg, expAvgSq) => ({ param, expAvg, expAvgSq }),
  },
};
