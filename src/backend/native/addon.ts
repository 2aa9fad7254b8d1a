// Loading the C++ addon (native/build/Release/resnext_native.node) and why it may be unavailable.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LowPrecision } from '../contract';
import { readEnvironment } from '../../environment';

/** The addon's functions (see native/src/addon.cc). */
export interface NativeAddon {
  conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, geometry: Int32Array): void;
  conv2dFused(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array,
    residual: Float32Array | null,
    y: Float32Array,
    relu: boolean,
    geometry: Int32Array,
  ): void;
  /** Plans a fused convolution once per geometry and precision; later calls name it by `plan`. */
  blockedPlan(
    geometry: Int32Array,
    residual: boolean,
    relu: boolean,
    precision?: LowPrecision,
  ): [dstLayout: number, dstElements: number, weightElements: number, plan: number];
  blockedPrepareWeights(plan: number, w: Float32Array, out: Float32Array): void;
  conv2dFusedBlocked(
    plan: number,
    x: Float32Array,
    xLayout: number,
    w: Float32Array,
    bias: Float32Array,
    residual: Float32Array | null,
    residualLayout: number,
    y: Float32Array,
  ): void;
  maxPoolBlockedPlan(geometry: Int32Array, xLayout: number): [dstLayout: number, dstElements: number];
  maxPoolBlocked(x: Float32Array, xLayout: number, y: Float32Array, geometry: Int32Array): void;
  layoutDims(layout: number): number[];
  layoutToPlain(src: Float32Array, layout: number, dst: Float32Array): void;
  /** Adaptive average pooling to 1x1 of an activation stored in `layout` (> 0), read in place. */
  globalAvgPoolStored(x: Float32Array, layout: number, y: Float32Array, geometry: Int32Array): void;
  conv2dBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  conv2dBackwardWeight(dy: Float32Array, x: Float32Array, dw: Float32Array, geometry: Int32Array): void;
  matmul(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
  ): void;
  relu(x: Float32Array, y: Float32Array): void;
  reluBackward(dy: Float32Array, y: Float32Array, dx: Float32Array): void;
  addScaled(a: Float32Array, b: Float32Array | null, out: Float32Array, alpha: number, beta: number): void;
  channelSum(x: Float32Array, out: Float32Array, n: number, c: number, hw: number): void;
  batchNormStats(x: Float32Array, mean: Float32Array, variance: Float32Array, n: number, c: number, hw: number): void;
  batchNormForward(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array | null,
    beta: Float32Array | null,
    eps: number,
    y: Float32Array,
    n: number,
    c: number,
    hw: number,
  ): void;
  batchNormBackward(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array | null,
    eps: number,
    batchStats: boolean,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    n: number,
    c: number,
    hw: number,
  ): void;
  maxPool2d(x: Float32Array, y: Float32Array, geometry: Int32Array): void;
  maxPool2dBackward(dy: Float32Array, x: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  adaptiveAvgPool2d(x: Float32Array, y: Float32Array, geometry: Int32Array): void;
  adaptiveAvgPool2dBackward(dy: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  logSoftmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void;
  logSoftmaxBackward(dy: Float32Array, y: Float32Array, dx: Float32Array, rows: number, cols: number): void;
  addRowBias(x: Float32Array, bias: Float32Array, y: Float32Array, rows: number, cols: number): void;
  mul(a: Float32Array, b: Float32Array, out: Float32Array): void;
  sgdStep(
    param: Float32Array,
    grad: Float32Array,
    bufIn: Float32Array | null,
    paramOut: Float32Array,
    bufOut: Float32Array | null,
    lr: number,
    momentum: number,
    dampening: number,
    weightDecay: number,
    nesterov: boolean,
  ): void;
  /** oneDNN's version and ISA, threads, and our grouped 3x3 kernels in this build ('float32', 'bf16', 'int8'). */
  info(): { version: string; isa: number; threads: number; groupedKernels: string[] };
  setThreads(n: number): void;
  setGroupedTrainingNhwc(on: boolean): void;
  /** Whether our grouped 3x3 inference kernel runs where it applies (before planning). */
  setDirectGroupedConv(on: boolean): void;
}

const ROOT = join(__dirname, '..', '..', '..', '..');
const ADDON = join(ROOT, 'native', 'build', 'Release', 'resnext_native.node');

/** The addon, or why it could not be loaded. */
export function loadAddon(): { addon: NativeAddon | null; reason: string } {
  if (readEnvironment().disableNative) return { addon: null, reason: 'disabled by RESNEXT_DISABLE_NATIVE' };
  if (!existsSync(ADDON)) {
    const status = join(ROOT, 'native', 'build', 'status.txt');
    const why = existsSync(status)
      ? readFileSync(status, 'utf8').trim()
      : 'the addon was never built (npm ci builds it; or run: node scripts/build-native.js)';
    return { addon: null, reason: why };
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { addon: require(ADDON) as NativeAddon, reason: '' };
  } catch (e) {
    return { addon: null, reason: `cannot load ${ADDON}: ${(e as Error).message}` };
  }
}

/** oneDNN's dnnl_cpu_isa_t values (2.6) and their names. */
const ISA: Record<number, string> = {
  1: 'SSE4.1',
  3: 'AVX',
  7: 'AVX2',
  1031: 'AVX2 VNNI',
  15: 'AVX-512 MIC',
  31: 'AVX-512 MIC 4OPS',
  39: 'AVX-512 core',
  103: 'AVX-512 core VNNI',
  231: 'AVX-512 core BF16',
  999: 'AVX-512 core AMX',
};

/** Whether oneDNN's ISA value includes AVX-512 BF16 (bf16 dot products) and AVX-512 VNNI (int8 dot products). */
export function isaFeatures(isa: number): { bf16: boolean; vnni: boolean } {
  // dnnl_cpu_isa_t values are feature bit sets: avx512_core 0x27, + VNNI 0x40, + BF16 0x80
  return { vnni: (isa & 0x67) === 0x67, bf16: (isa & 0xe7) === 0xe7 };
}

/** A readable name for an ISA value. */
export function isaName(isa: number): string {
  return ISA[isa] ?? `isa 0x${isa.toString(16)}`;
}
