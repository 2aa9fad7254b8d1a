// The number formats of the contract's low precisions (contract.ts LowPrecision), shared by the
// reference arithmetic (reference/low-precision.ts) and the quantiser (nn/quantize.ts): bf16
// rounding, round-half-to-even, and u8/s8 quantisation of a value by its scale.
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

/** An integer clamped to the u8 or s8 range. */
export function saturate(q: number, signed: boolean): number {
  const [lo, hi] = int8Range(signed);
  return Math.min(hi, Math.max(lo, q));
}

/** x as an integer step count of `scale`: sat(rne(x · fl(1/fl(scale)))). */
export function quantize(x: number, scale: number, signed: boolean): number {
  return saturate(roundHalfEven(Math.fround(x * Math.fround(1 / Math.fround(scale)))), signed);
}
