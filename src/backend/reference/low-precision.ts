// The definition of bf16 and int8 inference arithmetic (contract.ts LowPrecision): every fast path
// (the native backend's oneDNN kernels) is held to these functions by the tests.
// bf16: round to nearest even of float32's upper 16 bits; products of two bf16 numbers are exact
// in float32, sums are float32 (here float64: the fast path's order differs anyway).
// int8: q = sat(rne(x · fl(1/scale))); the conv sums integer products exactly; the epilogue is
// v = (acc + b·fl(1/fl(srcScale·ws))) · fl(fl(srcScale·ws)/dstScale) + fl(residualScale/dstScale)·qr,
// ReLU, then q = sat(rne(v)) and the stored value fl(q · dstScale) — fl() is float32 rounding,
// the constants oneDNN is given, so a fast path differs only where float32 rounding of v crosses .5.
import type { ConvGeometry, Int8Conv, LowPrecision } from '../contract';
import { conv2d } from './conv';
import type { FArray } from './storage';
import { allocLike } from './storage';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** x rounded to the nearest bf16 number (ties to even), as a float32 value. NaN stays NaN. */
export function roundToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7f800000) === 0x7f800000) return f32[0]; // inf, NaN
  u32[0] = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
  return f32[0];
}

/** Round half to even (what the CPU's float → int conversion does). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The integer range of a u8 or s8 activation (weights use [-127, 127]). */
export function int8Range(signed: boolean): [number, number] {
  return signed ? [-128, 127] : [0, 255];
}

/** x as an integer step count of `scale`: sat(rne(x · fl(1/fl(scale)))). */
export function quantize(x: number, scale: number, signed: boolean): number {
  const [lo, hi] = int8Range(signed);
  const q = roundHalfEven(Math.fround(x * Math.fround(1 / Math.fround(scale))));
  return q < lo ? lo : q > hi ? hi : q;
}

function bf16Conv(
  x: FArray,
  w: FArray,
  bias: FArray,
  residual: FArray | null,
  relu: boolean,
  g: ConvGeometry,
): FArray {
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
  const [lo, hi] = int8Range(p.dstSigned);
  const plane = g.oh * g.ow;
  const residualFactor = Math.fround(residualScale / dstScale);
  const y = allocLike(x, acc.length);
  for (let o = 0; o < g.o; o++) {
    const accScale = Math.fround(srcScale * p.weightScales[o]);
    const outputScale = Math.fround(accScale / dstScale);
    const biasAcc = Math.fround(bias[o] * Math.fround(1 / accScale));
    for (let n = 0; n < g.n; n++) {
      const base = (n * g.o + o) * plane;
      for (let i = base; i < base + plane; i++) {
        let v = Math.fround(Math.fround(acc[i] + biasAcc) * outputScale);
        if (residual) v = Math.fround(v + residualFactor * quantize(residual[i], residualScale, p.residualSigned));
        if (relu && !(v > 0)) v = 0;
        const q = roundHalfEven(v);
        y[i] = Math.fround((q < lo ? lo : q > hi ? hi : q) * dstScale);
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
