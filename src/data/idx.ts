// The idx format of MNIST and Fashion-MNIST (bytes in, no file system): a big-endian header —
// two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, one u32 per
// dimension — then the data. Gzipped files are inflated into a buffer of the size the caller
// expects, never more, and their CRC-32 checked.
import { crc32 } from '../io/crc32';
import { FileFormatError, failFor } from '../io/errors';
import { inflateExact } from '../io/inflate';

/** An idx array of unsigned bytes: its dimensions and data. */
export interface IdxArray {
  readonly dims: number[];
  readonly data: Uint8Array;
}

/**
 * Inflates a gzip stream whose output must be exactly `expectedBytes` long; stops (and throws) as
 * soon as it grows past that, so a file that lies about its contents costs no more memory than
 * an honest one.
 */
export function gunzipExact(gz: Uint8Array, expectedBytes: number, source: string): Uint8Array {
  if (gz.length < 18 || gz[0] !== 0x1f || gz[1] !== 0x8b) {
    throw new FileFormatError(source, `not a gzip file (first bytes ${hex(gz.subarray(0, 2))}, expected 1f8b)`);
  }
  const out = inflateExact(gz, expectedBytes, 'gzip', failFor(source));
  const trailer = new DataView(gz.buffer, gz.byteOffset + gz.length - 8, 8);
  const stored = trailer.getUint32(0, true),
    actual = crc32(out);
  if (stored !== actual) {
    throw new FileFormatError(
      source,
      `CRC-32 of the inflated data is ${actual.toString(16)}, the gzip trailer says ${stored.toString(16)} (damaged file)`,
    );
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** How an idx file's dimensions are checked: exactly `expected`, or with a first dimension (a count) of at most `expected[0]`. */
export interface IdxOptions {
  countUpTo?: boolean;
}

/**
 * Parses an idx file of unsigned bytes with the dimensions `expected` (e.g. [60000, 28, 28]; with
 * `countUpTo`, any count up to 60000 of 28x28); anything else — wrong magic, type, rank, counts or
 * length — is an error naming the file.
 */
export function parseIdx(
  buf: Uint8Array,
  expected: readonly number[],
  source: string,
  opts: IdxOptions = {},
): IdxArray {
  const headerBytes = 4 + 4 * expected.length;
  if (buf.length < headerBytes) throw new FileFormatError(source, `${buf.length} bytes, too short for an idx header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  const wanted = 0x0800 + expected.length;
  if (magic !== wanted) {
    throw new FileFormatError(
      source,
      `idx magic number 0x${magic.toString(16).padStart(8, '0')}, expected ` +
        `0x${wanted.toString(16).padStart(8, '0')} (unsigned bytes, ${expected.length} dimensions)`,
    );
  }
  const dims = expected.map((_, i) => view.getUint32(4 + 4 * i, false));
  const fits = (d: number, i: number) => (i === 0 && opts.countUpTo ? d >= 1 && d <= expected[0] : d === expected[i]);
  if (!dims.every(fits)) {
    const want = opts.countUpTo ? `[1..${expected[0]}, ${expected.slice(1).join(', ')}]` : `[${expected.join(', ')}]`;
    throw new FileFormatError(source, `idx dimensions [${dims.join(', ')}], expected ${want}`);
  }
  const n = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== headerBytes + n) {
    throw new FileFormatError(
      source,
      `${buf.length} bytes, expected ${headerBytes + n} for dimensions [${dims.join(', ')}]`,
    );
  }
  return { dims, data: buf.subarray(headerBytes) };
}

/**
 * Inflates a gzipped idx file and parses it. With `countUpTo`, the inflated size is the one the gzip
 * trailer states, refused when above what `expected` allows (so a lying file costs no more memory).
 */
export function parseIdxGz(
  gz: Uint8Array,
  expected: readonly number[],
  source: string,
  opts: IdxOptions = {},
): IdxArray {
  const most = 4 + 4 * expected.length + expected.reduce((a, b) => a * b, 1);
  let bytes = most;
  if (opts.countUpTo && gz.length >= 18) {
    bytes = new DataView(gz.buffer, gz.byteOffset + gz.length - 4, 4).getUint32(0, true);
    if (bytes > most) {
      throw new FileFormatError(
        source,
        `gzip trailer says ${bytes} bytes inflated, more than the ${most} of [${expected.join(', ')}]`,
      );
    }
  }
  return parseIdx(gunzipExact(gz, bytes, source), expected, source, opts);
}
