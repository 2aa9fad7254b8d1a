// Reference elementwise, reduction, matrix and loss kernels.
import type { AdamWStep, SgdStep } from '../contract';
import { gemm } from './gemm';
import { allocLike, type FArray } from './storage';

/** alpha·a + beta·b. */
export function addScaled(a: FArray, b: FArray | null, alpha: number, beta: number): FArray {
  const out = allocLike(a, a.length);
  if (b === null || beta === 0) {
    for (let i = 0; i < a.length; i++) out[i] = alpha * a[i];
    return out;
  }
  for (let i = 0; i < a.length; i++) out[i] = alpha * a[i] + beta * b[i];
  return out;
}

/** a += b. */
export function addInPlace(a: FArray, b: FArray): FArray {
  for (let i = 0; i < a.length; i++) a[i] = a[i] + b[i];
  return a;
}

/** a·b elementwise. */
export function mul(a: FArray, b: FArray): FArray {
  const out = allocLike(a, a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * b[i];
  return out;
}

/** Σa (accumulated in float64). */
export function sumAll(a: FArray): FArray {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const out = allocLike(a, 1);
  out[0] = s;
  return out;
}

/** alpha·scalar[0] repeated `size` times. */
export function expandScalar(scalar: FArray, size: number, alpha: number): FArray {
  return allocLike(scalar, size).fill(alpha * scalar[0]);
}

/** e^x. */
export function exp(x: FArray): FArray {
  const out = allocLike(x, x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.exp(x[i]);
  return out;
}

/** max(x, 0); NaN stays NaN as in PyTorch. */
export function relu(x: FArray): FArray {
  const out = allocLike(x, x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = v > 0 || Number.isNaN(v) ? v : 0;
  }
  return out;
}

/** max(x, 0) over x itself. */
export function reluInPlace(x: FArray): FArray {
  for (let i = 0; i < x.length; i++) if (!(x[i] > 0 || Number.isNaN(x[i]))) x[i] = 0;
  return x;
}

/** dy·[y > 0]. */
export function reluBackward(dy: FArray, y: FArray): FArray {
  const out = allocLike(dy, dy.length);
  for (let i = 0; i < dy.length; i++) out[i] = y[i] > 0 ? dy[i] : 0;
  return out;
}

/** op(A)·op(B) as a fresh [m, n] matrix. */
export function matmul(
  a: FArray,
  b: FArray,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
): FArray {
  const c = allocLike(a, m * n);
  gemm(
    transA,
    transB,
    m,
    n,
    k,
    { data: a, offset: 0, ld: transA ? m : k },
    { data: b, offset: 0, ld: transB ? k : n },
    { data: c, offset: 0, ld: n },
    true,
  );
  return c;
}

/** x[i, j] + bias[j]. */
export function addRowBias(x: FArray, bias: FArray, rows: number, cols: number): FArray {
  const out = allocLike(x, x.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = x[i * cols + j] + bias[j];
  return out;
}

/** y = x − max − log Σ exp(x − max), per row. */
export function logSoftmax(x: FArray, rows: number, cols: number): FArray {
  const y = allocLike(x, x.length);
  for (let i = 0; i < rows; i++) {
    const r = i * cols;
    let mx = -Infinity;
    for (let j = 0; j < cols; j++) mx = Math.max(mx, x[r + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x[r + j] - mx);
    const lse = mx + Math.log(s);
    for (let j = 0; j < cols; j++) y[r + j] = x[r + j] - lse;
  }
  return y;
}

/** dx = dy − softmax·Σdy, per row (softmax = exp(y)). */
export function logSoftmaxBackward(dy: FArray, y: FArray, rows: number, cols: number): FArray {
  const dx = allocLike(dy, dy.length);
  for (let i = 0; i < rows; i++) {
    const r = i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += dy[r + j];
    for (let j = 0; j < cols; j++) dx[r + j] = dy[r + j] - Math.exp(y[r + j]) * s;
  }
  return dx;
}

/** loss_i = −(1−ε)·logp[i, t_i] − (ε/cols)·Σ_j logp[i, j]. */
export function nllLoss(logp: FArray, targets: Int32Array, rows: number, cols: number, smoothing: number): FArray {
  const out = allocLike(logp, rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    if (smoothing !== 0) for (let j = 0; j < cols; j++) s += logp[i * cols + j];
    out[i] = -(1 - smoothing) * logp[i * cols + targets[i]] - (smoothing / cols) * s;
  }
  return out;
}

/** d logp[i, j] = −dloss_i·((1−ε)·[j = t_i] + ε/cols). */
export function nllLossBackward(
  dloss: FArray,
  targets: Int32Array,
  rows: number,
  cols: number,
  smoothing: number,
): FArray {
  const d = allocLike(dloss, rows * cols);
  for (let i = 0; i < rows; i++) {
    const g = dloss[i];
    if (smoothing !== 0) d.fill((-g * smoothing) / cols, i * cols, (i + 1) * cols);
    d[i * cols + targets[i]] -= g * (1 - smoothing);
  }
  return d;
}

/** torch.optim.SGD's update for one parameter. */
export function sgdStep(
  param: FArray,
  grad: FArray,
  buf: FArray | null,
  h: SgdStep,
): { param: FArray; momentumBuffer: FArray | null } {
  const n = param.length,
    p = allocLike(param, n);
  const b = h.momentum !== 0 ? (buf ? buf.slice() : null) : null;
  const first = h.momentum !== 0 && !buf;
  const newBuf = h.momentum !== 0 ? (b ?? allocLike(param, n)) : null;
  for (let i = 0; i < n; i++) {
    let g = grad[i] + h.weightDecay * param[i];
    if (newBuf) {
      const m = first ? g : h.momentum * newBuf[i] + (1 - h.dampening) * g;
      newBuf[i] = m;
      g = h.nesterov ? g + h.momentum * m : m;
    }
    p[i] = param[i] - h.lr * g;
  }
  return { param: p, momentumBuffer: newBuf };
}

/** torch.optim.AdamW's update for one parameter. */
export function adamwStep(
  param: FArray,
  grad: FArray,
  expAvg: FArray,
  expAvgSq: FArray,
  h: AdamWStep,
): { param: FArray; expAvg: FArray; expAvgSq: FArray } {
  const n = param.length,
    p = allocLike(param, n),
    m = allocLike(param, n),
    v = allocLike(param, n);
  const c1 = 1 - h.beta1 ** h.step,
    c2 = 1 - h.beta2 ** h.step;
  const stepSize = h.lr / c1,
    sqrtC2 = Math.sqrt(c2);
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    m[i] = h.beta1 * expAvg[i] + (1 - h.beta1) * g;
    v[i] = h.beta2 * expAvgSq[i] + (1 - h.beta2) * g * g;
    p[i] = param[i] * (1 - h.lr * h.weightDecay) - (stepSize * m[i]) / (Math.sqrt(v[i]) / sqrtC2 + h.eps);
  }
  return { param: p, expAvg: m, expAvgSq: v };
}
