// The native backend: the reference backend's storage (Float32Array / Float64Array) with the hot
// kernels run in C++ through the addon — convolutions (forward, fused inference, backward-data,
// backward-weights) and matrix multiply by oneDNN; ReLU, add, products, batch norm, pooling,
// log-softmax, row bias and the SGD update as OpenMP loops. Outputs come from a buffer pool inside
// a step scope; fused inference outputs may stay blocked (blocked.ts). float64 (gradchecks) and
// anything oneDNN declines use the reference kernels, so every result is defined by the oracle.
// The addon is loaded by the first loadNativeBackend() or nativeStatus() call, never at import.
import type { Backend, ConvGeometry, Kernels, NativeStatus, PoolGeometry } from '../contract';
import { referenceBackend, type FArray } from '../reference';
import { readEnvironment } from '../../environment';
import { isaFeatures, isaName, loadAddon, type NativeAddon } from './addon';
import { BlockedLayouts } from './blocked';
import { BufferPool, bufferScopeOf } from '../buffer-pool';

let loaded: ReturnType<typeof loadAddon> | null = null;
/** The addon, loaded on the first call (never at import), or why it is unavailable. */
function addonState(): ReturnType<typeof loadAddon> {
  loaded ??= loadAddon();
  return loaded;
}
/** Where the native kernels take their outputs from (reused inside a step scope). */
export const nativeBufferPool = new BufferPool();
/** Which native storages hold blocked (oneDNN-chosen) layouts; see blocked.ts. Made with the backend. */
let nativeLayouts: BlockedLayouts | null = null;
let backend: Backend<FArray> | null = null;

/** Whether the addon loads, why not, and what oneDNN reports (loads it on the first call). */
export function nativeStatus(): NativeStatus {
  const { addon, reason } = addonState();
  if (!addon) return { available: false, reason };
  const info = addon.info();
  return {
    available: true,
    reason: '',
    oneDNN: info.version,
    isa: isaName(info.isa),
    threads: info.threads,
    groupedKernels: info.groupedKernels,
  };
}

/** The layout a native storage holds: 0 for plain NCHW, n > 0 for a blocked layout oneDNN chose. */
export function nativeLayoutOf(storage: unknown): number {
  return nativeLayouts?.layoutOf(storage) ?? 0;
}

function pack(g: ConvGeometry): Int32Array {
  return Int32Array.of(
    g.n,
    g.c,
    g.h,
    g.w,
    g.o,
    g.kh,
    g.kw,
    g.oh,
    g.ow,
    g.strideH,
    g.strideW,
    g.padH,
    g.padW,
    g.dilH,
    g.dilW,
    g.groups,
  );
}

function packPool(g: PoolGeometry): Int32Array {
  return Int32Array.of(g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.strideH, g.strideW, g.padH, g.padW);
}

const f32 = (...xs: (FArray | null)[]): boolean => xs.every((x) => x === null || x instanceof Float32Array);

/** How often each kernel was declined by oneDNN (no kernel for the shape) and ran on the reference backend instead. */
const fallbacks = new Map<string, number>();

function nativeKernels(addon: NativeAddon, layouts: BlockedLayouts): Kernels<FArray> {
  const ref = referenceBackend.kernels;
  // oneDNN runs it when every operand is float32 and it has a kernel for the shape; when it declines
  // (its "unimplemented" status) the oracle runs it, counted in the backend's fallbacks(); any other error
  // is thrown with the kernel's name
  const tryNative = <T>(kernel: string, attempt: () => T, fallback: () => T): T => {
    try {
      return attempt();
    } catch (e) {
      const message = (e as Error).message;
      if (!message.startsWith('oneDNN declined')) throw new Error(`native ${kernel}: ${message}`);
      fallbacks.set(kernel, (fallbacks.get(kernel) ?? 0) + 1);
      return fallback();
    }
  };
  // a fresh float32 output of `size` elements, filled by a native call
  const run = (fill: (out: Float32Array) => void, size: number): Float32Array => {
    const out = layouts.output(size);
    fill(out);
    return out;
  };
  return layouts.plainInputs(
    {
      ...ref,
      conv2d: (x, w, b, g) =>
        !f32(x, w, b)
          ? ref.conv2d(x, w, b, g)
          : tryNative(
              'conv2d',
              () => {
                const y = layouts.output(g.n * g.o * g.oh * g.ow);
                addon.conv2d(x as Float32Array, w as Float32Array, b as Float32Array | null, y, pack(g));
                return y;
              },
              () => ref.conv2d(x, w, b, g),
            ),
      conv2dFused: (x, w, b, r, relu, g, precision) =>
        !f32(x, w, b, r)
          ? ref.conv2dFused(x, w, b, r, relu, g, precision)
          : tryNative(
              'conv2dFused',
              () => {
                const packed = pack(g);
                const blocked = layouts.conv2dFused(
                  x as Float32Array,
                  w as Float32Array,
                  b as Float32Array,
                  r as Float32Array | null,
                  relu,
                  g,
                  packed,
                  precision,
                );
                if (blocked) return blocked;
                // bf16 and int8 run only in oneDNN's chosen layouts: decline to the reference
                if (precision) throw new Error('oneDNN declined: no blocked plan');
                const y = layouts.output(g.n * g.o * g.oh * g.ow);
                addon.conv2dFused(
                  layouts.plain(x) as Float32Array,
                  w as Float32Array,
                  b as Float32Array,
                  r && (layouts.plain(r) as Float32Array),
                  y,
                  relu,
                  packed,
                );
                return y;
              },
              () => ref.conv2dFused(layouts.plain(x), w, b, r && layouts.plain(r), relu, g, precision),
            ),
      conv2dBackwardData: (dy, w, g) =>
        !f32(dy, w)
          ? ref.conv2dBackwardData(dy, w, g)
          : tryNative(
              'conv2dBackwardData',
              () => {
                const dx = layouts.output(g.n * g.c * g.h * g.w);
                addon.conv2dBackwardData(dy as Float32Array, w as Float32Array, dx, pack(g));
                return dx;
              },
              () => ref.conv2dBackwardData(dy, w, g),
            ),
      conv2dBackwardWeight: (dy, x, g) =>
        !f32(dy, x)
          ? ref.conv2dBackwardWeight(dy, x, g)
          : tryNative(
              'conv2dBackwardWeight',
              () => {
                const dw = layouts.output(((g.o * g.c) / g.groups) * g.kh * g.kw);
                addon.conv2dBackwardWeight(dy as Float32Array, x as Float32Array, dw, pack(g));
                return dw;
              },
              () => ref.conv2dBackwardWeight(dy, x, g),
            ),
      relu: (x) => (!f32(x) ? ref.relu(x) : run((y) => addon.relu(x as Float32Array, y), x.length)),
      reluInPlace: (x) => {
        if (!f32(x)) return ref.reluInPlace(x);
        addon.relu(x as Float32Array, x as Float32Array);
        return x;
      },
      reluBackward: (dy, y) =>
        !f32(dy, y)
          ? ref.reluBackward(dy, y)
          : run((dx) => addon.reluBackward(dy as Float32Array, y as Float32Array, dx), dy.length),
      addInPlace: (a, b) => {
        if (!f32(a, b)) return ref.addInPlace(a, b);
        addon.addScaled(a as Float32Array, b as Float32Array, a as Float32Array, 1, 1);
        return a;
      },
      addScaled: (a, b, alpha, beta) =>
        !f32(a, b)
          ? ref.addScaled(a, b, alpha, beta)
          : run((o) => addon.addScaled(a as Float32Array, b as Float32Array | null, o, alpha, beta), a.length),
      channelSum: (x, g) =>
        !f32(x) ? ref.channelSum(x, g) : run((o) => addon.channelSum(x as Float32Array, o, g.n, g.c, g.hw), g.c),
      batchNormStats: (x, g) => {
        if (!f32(x)) return ref.batchNormStats(x, g);
        const mean = new Float32Array(g.c),
          variance = new Float32Array(g.c);
        addon.batchNormStats(x as Float32Array, mean, variance, g.n, g.c, g.hw);
        return { mean, variance };
      },
      batchNormForward: (x, mean, variance, gamma, beta, eps, g) =>
        !f32(x, mean, variance, gamma, beta)
          ? ref.batchNormForward(x, mean, variance, gamma, beta, eps, g)
          : run(
              (y) =>
                addon.batchNormForward(
                  x as Float32Array,
                  mean as Float32Array,
                  variance as Float32Array,
                  gamma as Float32Array | null,
                  beta as Float32Array | null,
                  eps,
                  y,
                  g.n,
                  g.c,
                  g.hw,
                ),
              x.length,
            ),
      batchNormBackward: (dy, x, mean, variance, gamma, eps, batchStats, g) => {
        if (!f32(dy, x, mean, variance, gamma))
          return ref.batchNormBackward(dy, x, mean, variance, gamma, eps, batchStats, g);
        const dx = layouts.output(x.length),
          dgamma = new Float32Array(g.c),
          dbeta = new Float32Array(g.c);
        addon.batchNormBackward(
          dy as Float32Array,
          x as Float32Array,
          mean as Float32Array,
          variance as Float32Array,
          gamma as Float32Array | null,
          eps,
          batchStats,
          dx,
          dgamma,
          dbeta,
          g.n,
          g.c,
          g.hw,
        );
        return { dx, dgamma, dbeta };
      },
      mul: (a, b) =>
        !f32(a, b) ? ref.mul(a, b) : run((o) => addon.mul(a as Float32Array, b as Float32Array, o), a.length),
      maxPool2d: (x, g) => {
        if (!f32(x)) return ref.maxPool2d(x, g);
        const blocked = tryNative(
          'maxPool2d',
          () => layouts.maxPool2d(x as Float32Array, g, packPool(g)),
          () => null,
        );
        return (
          blocked ??
          run((y) => addon.maxPool2d(layouts.plain(x) as Float32Array, y, packPool(g)), g.n * g.c * g.oh * g.ow)
        );
      },
      maxPool2dBackward: (dy, x, g) =>
        !f32(dy, x)
          ? ref.maxPool2dBackward(dy, x, g)
          : run((dx) => addon.maxPool2dBackward(dy as Float32Array, x as Float32Array, dx, packPool(g)), x.length),
      adaptiveAvgPool2d: (x, g) => {
        if (!f32(x)) return ref.adaptiveAvgPool2d(x, g);
        const layout = layouts.layoutOf(x);
        // inference's global pooling reads the last convolution's output in its own layout
        if (layout !== 0 && g.oh === 1 && g.ow === 1) {
          return run((y) => addon.globalAvgPoolStored(x as Float32Array, layout, y, packPool(g)), g.n * g.c);
        }
        return run(
          (y) => addon.adaptiveAvgPool2d(layouts.plain(x) as Float32Array, y, packPool(g)),
          g.n * g.c * g.oh * g.ow,
        );
      },
      adaptiveAvgPool2dBackward: (dy, g) =>
        !f32(dy)
          ? ref.adaptiveAvgPool2dBackward(dy, g)
          : run((dx) => addon.adaptiveAvgPool2dBackward(dy as Float32Array, dx, packPool(g)), g.n * g.c * g.h * g.w),
      logSoftmax: (x, rows, cols) =>
        !f32(x)
          ? ref.logSoftmax(x, rows, cols)
          : run((y) => addon.logSoftmax(x as Float32Array, y, rows, cols), rows * cols),
      logSoftmaxBackward: (dy, y, rows, cols) =>
        !f32(dy, y)
          ? ref.logSoftmaxBackward(dy, y, rows, cols)
          : run((dx) => addon.logSoftmaxBackward(dy as Float32Array, y as Float32Array, dx, rows, cols), rows * cols),
      addRowBias: (x, bias, rows, cols) =>
        !f32(x, bias)
          ? ref.addRowBias(x, bias, rows, cols)
          : run((y) => addon.addRowBias(x as Float32Array, bias as Float32Array, y, rows, cols), rows * cols),
      sgdStep: (param, grad, buf, h) => {
        if (!f32(param, grad, buf)) return ref.sgdStep(param, grad, buf, h);
        // in place, as torch.optim does: a fresh copy of every parameter per step would cost page faults
        const p = param as Float32Array,
          b = h.momentum === 0 ? null : ((buf as Float32Array | null) ?? new Float32Array(param.length));
        addon.sgdStep(
          p,
          grad as Float32Array,
          buf as Float32Array | null,
          p,
          b,
          h.lr,
          h.momentum,
          h.dampening,
          h.weightDecay,
          h.nesterov,
        );
        return { param: p, momentumBuffer: b };
      },
      matmul: (a, b, m, k, n, ta, tb) =>
        !f32(a, b)
          ? ref.matmul(a, b, m, k, n, ta, tb)
          : tryNative(
              'matmul',
              () => {
                const c = layouts.output(m * n);
                addon.matmul(a as Float32Array, b as Float32Array, c, m, k, n, ta, tb);
                return c;
              },
              () => ref.matmul(a, b, m, k, n, ta, tb),
            ),
    },
    new Set(['conv2dFused', 'maxPool2d', 'adaptiveAvgPool2d']),
  );
}

/** The native backend, loading the addon on the first call; throws why it is unavailable. */
export function loadNativeBackend(): Backend<FArray> {
  if (backend) return backend;
  const { addon, reason } = addonState();
  if (!addon) throw new Error(`the native backend is unavailable: ${reason}`);
  addon.setGroupedTrainingNhwc(!readEnvironment().plainGroupedConv);
  addon.setDirectGroupedConv(!readEnvironment().oneDnnGroupedConv);
  const layouts = new BlockedLayouts(addon, (size) => nativeBufferPool.take(size));
  nativeLayouts = layouts;
  backend = {
    ...referenceBackend,
    name: 'native',
    kernels: nativeKernels(addon, layouts),
    read: (s) => referenceBackend.read(layouts.plain(s)),
    bufferScope: bufferScopeOf(nativeBufferPool),
    threads: { get: () => addon.info().threads, set: (n) => addon.setThreads(n) },
    fallbacks: () => fallbacks,
    fastPrecisions: () => {
      const isa = addon.info().isa,
        { bf16, vnni } = isaFeatures(isa);
      return { bf16, int8: vnni, hardware: `oneDNN ISA ${isaName(isa)}` };
    },
  };
  return backend;
}
