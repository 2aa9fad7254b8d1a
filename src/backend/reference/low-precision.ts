// The definition of bf16 and int8 inference arithmetic (contract.ts LowPrecision): every fast path
// (the native backend's oneDNN kernels) is held to these functions by the tests.
// bf16: round to nearest even of float32's upper 16 bits; products of two bf16 numbers are exact
// in float32, sums are float32 (here float64: the fast path's order differs anyway).
// int8: q = sat(rne(x · fl(1/scale))); the conv sums integer products exactly; with a = acc +
// b·fl(1/fl(srcScale·ws)) the epilogue is v = a · fl(fl(srcScale·ws)/dstScale), then ReLU; with a
// residual v = relu(a · fl(fl(srcScale·ws)/residualScale) + qr) · fl(residualScale/dstScale);
// then q = sat(rne(v)) and the stored value fl(q · dstScale). fl() is float32 rounding and every
// step is float32 as oneDNN computes it, so a fast path differs at most by an FMA's rounding.
import type { ConvGeometry, Int8Conv, LowPrecision } from '../contract';
import { quantize, roundHalfEven, roundToBf16, saturate } from '../rounding';
import { conv2d } from './conv';
import type { FArray } from './storage';
import { allocLike } from './storage';

function bf16Conv(x: FArray, w: FArray, bias: FArray, residual: FArray | null, relu: boolean, g: ConvGeometry): FArray {
  const xb = Float64Array.from(x, roundToBf16),
    wb = Float64Array.from(w, roundToBf16);
  const acc = conv2d(xb, wb, Float64Array.from(bias), g);
  const y = allocLike(x, acc.length);
  for (let i = 0; i < acc.length; i++) {
    let v = Math.fround(acc[i]);
    if (residual) v = Math.fround(v + roundToBf16(residual[i]));
    y[i] = roundToBf16(relu && !(v > 0) ? 0 : v);
  }
  return y;
}

function int8Conv(
  x: FArray,
  w: FArray,
  bias: FArray,
  residual: FArray | null,
  relu: boolean,
  g: ConvGeometry,
  p: Int8Conv,
): FArray {
  // scales are float32 numbers, as a fast path is given them
  const srcScale = Math.fround(p.srcScale),
    dstScale = Math.fround(p.dstScale),
    residualScale = Math.fround(p.residualScale);
  const qx = Float64Array.from(x, (v) => quantize(v, srcScale, p.srcSigned));
  const qw = Float64Array.from(w, (v, i) => {
    if (!Number.isInteger(v) || v < -127 || v > 127) {
      throw new Error(`conv2dFused int8: weight[${i}] is ${v}, expected an integer in [-127, 127]`);
    }
    return v;
  });
  const acc = conv2d(qx, qw, null, g); // integer sums, exact in float64 (|acc| < 2^53)
  const plane = g.oh * g.ow;
  // with a residual the sum is formed in residual steps, then scaled to output steps
  const unit = residual ? residualScale : dstScale;
  const toOutput = Math.fround(residualScale / dstScale);
  const y = allocLike(x, acc.length);
  for (let o = 0; o < g.o; o++) {
    const accScale = Math.fround(srcScale * p.weightScales[o]);
    const outputScale = Math.fround(accScale / unit);
    const biasAcc = Math.fround(bias[o] * Math.fround(1 / accScale));
    for (let n = 0; n < g.n; n++) {
      const base = (n * g.o + o) * plane;
      for (let i = base; i < base + plane; i++) {
        let v = Math.fround(Math.fround(acc[i] + biasAcc) * outputScale);
        if (residual) v = Math.fround(v + quantize(residual[i], residualScale, p.residualSigned));
        if (relu && !(v > 0)) v = 0;
        if (residual) v = Math.fround(v * toOutput);
        y[i] = Math.fround(saturate(roundHalfEven(v), p.dstSigned) * dstScale);
      }
    }
  }
  return y;
}

/** The reference fused convolution in bf16 or int8 (see the file header for the arithmetic). */
export function conv2dLowPrecision(
  x: FArray,
  w: FArray,
  bias: FArray,
  residual: FArray | null,
  relu: boolean,
  g: ConvGeometry,
  precision: LowPrecision,
): FArray {
  return precision.kind === 'bf16'
    ? bf16Conv(x, w, bias, residual, relu, g)
    : int8Conv(x, w, bias, residual, relu, g, precision);
}
