// Byte helpers for the portable parsers and serializers (Uint8Array only: no Node Buffer in the core).

/** The bytes of `parts`, one after another, in a fresh array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A string's UTF-8 bytes. */
export function utf8Bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Little-endian unsigned integer bytes of `value` (2 or 8 bytes wide). */
export function uintLE(value: number, width: 2 | 8): Uint8Array {
  const out = new Uint8Array(width);
  const view = new DataView(out.buffer);
  if (width === 2) view.setUint16(0, value, true);
  else view.setBigUint64(0, BigInt(value), true);
  return out;
}
