// 16-bit float decoding (IEEE half and bfloat16) for weight files.

/** IEEE 754 half-precision bits → number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 0x1f,
    f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const f32 = new Float32Array(1),
  u32 = new Uint32Array(f32.buffer);
/** bfloat16 bits (the top half of a float32) → number. */
export function bfloat16ToFloat(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/** Decodes little-endian 16-bit floats from bytes. */
export function decode16(bytes: Uint8Array, n: number, bf16: boolean): Float32Array {
  const bits = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 2 * n));
  return Float32Array.from(bits, bf16 ? bfloat16ToFloat : halfToFloat);
}
