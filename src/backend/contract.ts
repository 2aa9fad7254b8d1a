// The Backend contract: the typed kernel table every compute backend implements.
// Kernels receive storages plus fully resolved integer geometry (tensor/ owns shape math);
// a backend never sees a Tensor, never validates user input, and never records gradients.

/** Element types a tensor can hold. int64 values are exact up to 2^53. */
export type DType = 'float32' | 'float64' | 'int64';

/** Resolved geometry of a 2-D convolution (NCHW activations, OIHW weights). */
export interface ConvGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilH: number;
  dilW: number;
  groups: number;
}

/** Resolved geometry of a 2-D pooling window (NCHW). */
export interface PoolGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

/** Geometry of per-channel work on an [N, C, HW] view (batch norm, channel sums). */
export interface ChannelGeometry {
  n: number;
  c: number;
  hw: number;
}

/** Result of batch-norm statistics: per-channel mean and biased variance. */
export interface MomentPair<S> {
  mean: S;
  variance: S;
}

/** Gradients of batch norm with respect to its input and affine parameters. */
export interface BatchNormGrads<S> {
  dx: S;
  dgamma: S;
  dbeta: S;
}

/** Hyper-parameters of one SGD step (PyTorch's torch.optim.SGD semantics). */
export interface SgdStep {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}
/** Hyper-parameters of one AdamW step (decoupled weight decay; `step` counts from 1). */
export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
}

/**
 * A fused inference convolution's arithmetic other than float32: bf16 (inputs and weights rounded
 * to bf16, float32 accumulation and epilogue, output rounded to bf16) or int8 (see Int8Conv).
 */
export type LowPrecision = { kind: 'bf16' } | Int8Conv;

/**
 * int8 arithmetic of one fused convolution: the weight holds integers in [-127, 127] with one scale
 * per output channel; the input, residual and output are stored as u8 (unsigned) or s8 integers
 * times their scale; integer products are summed exactly and the result requantised (see
 * reference/low-precision.ts for every rounding).
 */
export interface Int8Conv {
  kind: 'int8';
  /** A number naming this set of scales (backends key their prepared plans by it). */
  id: number;
  srcScale: number;
  srcSigned: boolean;
  dstScale: number;
  dstSigned: boolean;
  /** The residual's scale and signedness (unused without a residual). */
  residualScale: number;
  residualSigned: boolean;
  /** One per output channel. */
  weightScales: Float32Array;
}

/** Every kernel a backend must provide; a missing one is a compile error in the backend. */
export interface Kernels<S> {
  /** alpha·a + beta·b, elementwise (b may be null when beta is 0). */
  addScaled(a: S, b: S | null, alpha: number, beta: number): S;
  /** a + b written over a (which it returns): an in-place sum whose first input nothing else reads. */
  addInPlace(a: S, b: S): S;
  /** Elementwise product. */
  mul(a: S, b: S): S;
  /** Sum of all elements, as a one-element storage. */
  sumAll(a: S): S;
  /** A storage of `size` elements all equal to the single element of `scalar`, times `alpha`. */
  expandScalar(scalar: S, size: number, alpha: number): S;
  /** e^x elementwise. */
  exp(x: S): S;
  /** max(x, 0). */
  relu(x: S): S;
  /** max(x, 0) written over x (which it returns): an in-place ReLU whose input nothing else reads. */
  reluInPlace(x: S): S;
  /** dy where y > 0, else 0 (y is relu's output). */
  reluBackward(dy: S, y: S): S;
  /** Grouped, strided, padded, dilated convolution with optional bias. */
  conv2d(x: S, weight: S, bias: S | null, g: ConvGeometry): S;
  /**
   * Inference convolution with its epilogue fused: relu?(conv(x, w) + bias + residual?), where
   * the caller has folded BatchNorm into weight and bias. No gradient. With `precision` it runs
   * in bf16 or int8 as the reference backend defines (reference/low-precision.ts); the output's
   * values are then bf16 numbers, or integer multiples of the int8 output scale.
   */
  conv2dFused(
    x: S,
    weight: S,
    bias: S,
    residual: S | null,
    relu: boolean,
    g: ConvGeometry,
    precision?: LowPrecision,
  ): S;
  /** Gradient of conv2d with respect to its input. */
  conv2dBackwardData(dy: S, weight: S, g: ConvGeometry): S;
  /** Gradient of conv2d with respect to its weight. */
  conv2dBackwardWeight(dy: S, x: S, g: ConvGeometry): S;
  /** Per-channel sum over N and HW (bias gradients). */
  channelSum(x: S, g: ChannelGeometry): S;
  /** Per-channel mean and biased variance over N and HW. */
  batchNormStats(x: S, g: ChannelGeometry): MomentPair<S>;
  /** (x - mean) / sqrt(var + eps) · gamma + beta, per channel. */
  batchNormForward(x: S, mean: S, variance: S, gamma: S | null, beta: S | null, eps: number, g: ChannelGeometry): S;
  /** Batch-norm gradients; `batchStats` says whether mean/var were computed from x (training). */
  batchNormBackward(
    dy: S,
    x: S,
    mean: S,
    variance: S,
    gamma: S | null,
    eps: number,
    batchStats: boolean,
    g: ChannelGeometry,
  ): BatchNormGrads<S>;
  /** Max pooling; padding counts as -infinity. */
  maxPool2d(x: S, g: PoolGeometry): S;
  /** Gradient of max pooling (routed to the first maximum of each window). */
  maxPool2dBackward(dy: S, x: S, g: PoolGeometry): S;
  /** Average pooling; `countIncludePad` as in PyTorch. */
  avgPool2d(x: S, g: PoolGeometry, countIncludePad: boolean): S;
  /** Gradient of average pooling. */
  avgPool2dBackward(dy: S, g: PoolGeometry, countIncludePad: boolean): S;
  /** Adaptive average pooling to [oh, ow] with PyTorch's window rule. */
  adaptiveAvgPool2d(x: S, g: PoolGeometry): S;
  /** Gradient of adaptive average pooling. */
  adaptiveAvgPool2dBackward(dy: S, g: PoolGeometry): S;
  /** C[m,n] = op(A)·op(B): A is [m,k] (or [k,m] if transA), B is [k,n] (or [n,k] if transB). */
  matmul(a: S, b: S, m: number, k: number, n: number, transA: boolean, transB: boolean): S;
  /** Adds bias[j] to every row of a [rows, cols] matrix. */
  addRowBias(x: S, bias: S, rows: number, cols: number): S;
  /** Row-wise log-softmax of a [rows, cols] matrix. */
  logSoftmax(x: S, rows: number, cols: number): S;
  /** Gradient of log-softmax given its output y: dy - exp(y)·rowsum(dy). */
  logSoftmaxBackward(dy: S, y: S, rows: number, cols: number): S;
  /** Per-row negative log-likelihood with label smoothing ε: (1-ε)·(-logp[t]) + ε·mean(-logp). */
  nllLoss(logp: S, targets: Int32Array, rows: number, cols: number, smoothing: number): S;
  /** Gradient of nllLoss with respect to logp, given the per-row upstream gradient. */
  nllLossBackward(dloss: S, targets: Int32Array, rows: number, cols: number, smoothing: number): S;
  /** One SGD step: g = grad + wd·p; buf = momentum·buf + (1−dampening)·g (buf = g at first); p −= lr·(nesterov ? g + momentum·buf : buf). A backend may update param and buffer in place and return them. */
  sgdStep(param: S, grad: S, momentumBuffer: S | null, h: SgdStep): { param: S; momentumBuffer: S | null };
  /** One AdamW step: p ·= 1 − lr·wd; m, v moving moments; p −= lr·m̂/(√v̂ + eps). */
  adamwStep(param: S, grad: S, expAvg: S, expAvgSq: S, h: AdamWStep): { param: S; expAvg: S; expAvgSq: S };
}

/** A compute backend: storage management plus the kernel table. */
export interface Backend<S = unknown> {
  /** Short name: 'reference', 'meta', 'native'. */
  readonly name: string;
  /** Whether storages hold data (false for the shapes-only meta backend). */
  readonly hasData: boolean;
  /** A zero-filled storage of `size` elements. */
  zeros(dtype: DType, size: number): S;
  /** A storage holding a copy of `values`. */
  fromValues(dtype: DType, values: ArrayLike<number>): S;
  /** The values of a storage as a fresh typed array (float32 → Float32Array, else Float64Array). */
  read(storage: S): Float32Array | Float64Array;
  /** Number of elements in a storage. */
  size(storage: S): number;
  kernels: Kernels<S>;
  /**
   * Optional reuse of kernel outputs (native backend): outputs created between open() and
   * close(keep) are recycled at close unless `keep` holds them; release(s) recycles one of them at
   * once (autograd gives back each gradient it has consumed, an inference plan each
   * intermediate after its last reader). See src/train/step-scope.ts.
   */
  readonly bufferScope?: {
    open(): void;
    close(keep: ReadonlySet<S>): void;
    release?(storage: S): void;
    /**
     * Bytes held by open scopes now and at their peak (since resetPeak), bytes idle in the pool, and
     * the peak's bytes by the kernel that made them (filled while a profiler names each kernel).
     */
    stats?(): { liveBytes: number; peakLiveBytes: number; idleBytes: number; peakByKernel: Record<string, number> };
    resetPeak?(): void;
    /** Names the kernel whose outputs are made next (the profiler calls it around each kernel; null: none). */
    setProducer?(kernel: string | null): void;
  };
  /**
   * Optional: a promise that `storage` will not change again (inference's folded weights), so the
   * backend may keep a copy where its kernels read it fastest (the wasm backend: in its memory).
   */
  holdConstant?(storage: S): void;
  /** Optional: the values of a storage once they are ready (a GPU backend reads asynchronously). */
  readAsync?(storage: S): Promise<Float32Array | Float64Array>;
  /** Optional: how many threads the backend computes with, and changing it. */
  readonly threads?: { get(): number; set(n: number): void };
  /** Optional: how often each kernel was declined and run by the reference backend instead. */
  fallbacks?(): ReadonlyMap<string, number>;
  /**
   * Optional: which low-precision convolutions run fast here, and the hardware that decides it
   * (without this, bf16 and int8 run only as the reference defines them: slowly).
   */
  fastPrecisions?(): { bf16: boolean; int8: boolean; hardware: string };
}

/** Names of all kernels, derived from the contract (used by conformance tests). */
export type KernelName = keyof Kernels<unknown>;

/** The native backend: whether its addon loads, why not, and what it reports (`resnext doctor`). */
export interface NativeStatus {
  available: boolean;
  reason: string;
  oneDNN?: string;
  isa?: string;
  threads?: number;
  /** Our own grouped 3x3 inference kernels in this build ('float32', 'bf16', 'int8'). */
  groupedKernels?: string[];
}
