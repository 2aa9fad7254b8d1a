// Bounded decompression: inflates a deflate or gzip stream into a buffer of exactly the size the
// caller expects, fed to fflate in small pieces so that no step can expand past that size by
// more than one piece's worth (deflate expands at most ~1,032x).
import { Gunzip, Inflate } from 'fflate';

const PIECE = 16 * 1024;

/** Inflates `raw` (raw deflate, or a gzip member) to exactly `size` bytes, or calls `fail`. */
export function inflateExact(
  raw: Uint8Array,
  size: number,
  format: 'deflate' | 'gzip',
  fail: (msg: string) => never,
): Uint8Array {
  const out = new Uint8Array(size);
  let filled = 0,
    overflow = false;
  const onData = (chunk: Uint8Array) => {
    if (filled + chunk.length > size) {
      overflow = true;
      throw new Error('overflow');
    }
    out.set(chunk, filled);
    filled += chunk.length;
  };
  const inflater = format === 'gzip' ? new Gunzip(onData) : new Inflate(onData);
  try {
    for (let at = 0; at < raw.length || at === 0; at += PIECE) {
      inflater.push(raw.subarray(at, at + PIECE), at + PIECE >= raw.length);
    }
  } catch (e) {
    if (overflow) fail(`inflates to more than the expected ${size} bytes`);
    fail(`damaged ${format} data (${(e as Error).message})`);
  }
  if (filled !== size) fail(`inflates to ${filled} bytes, expected ${size}`);
  return out;
}
