// A reader for the zip archives torch.save writes (bytes in, no file system). It lists entries from
// the central directory (zip64 included) and inflates only the entries asked for: encrypted
// entries and unknown methods are refused, every CRC-32 is checked, and inflation never grows past
// the size an entry declares, the size the caller expects, or the archive's byte budget.
import { crc32 } from './crc32';
import { failFor } from './errors';
import { inflateExact } from './inflate';

/** One entry of the central directory. */
export interface ZipEntry {
  readonly name: string;
  readonly flags: number;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
}

/** torch.save stores entries uncompressed; a re-zipped deflated entry above 1 MiB may expand at most this much. */
export const MAX_DEFLATE_RATIO = 100;
const SMALL_ENTRY = 1 << 20;

/** An opened archive: its entries by name, read on demand. */
export class ZipArchive {
  private inflated = 0;

  private constructor(
    private readonly buf: Uint8Array,
    readonly entries: ReadonlyMap<string, ZipEntry>,
    private readonly source: string,
    /** The most bytes `read` may return in total (the budget against inflation bombs). */
    readonly maxBytes: number,
  ) {}

  /** Parses the central directory of `buf`; `source` names the file in errors. */
  static open(buf: Uint8Array, source: string, maxBytes: number): ZipArchive {
    const fail = failFor(source);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let eocd = -1;
    for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
      if (view.getUint32(i, true) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) fail('not a valid zip archive (no end-of-central-directory record)');
    let count = view.getUint16(eocd + 10, true),
      dirOffset = view.getUint32(eocd + 16, true);
    const locator = eocd - 20;
    if (locator >= 0 && view.getUint32(locator, true) === 0x07064b50) {
      const z64 = safeU64(view, locator + 8, 'zip64 end record offset', fail);
      if (z64 + 56 > buf.length || view.getUint32(z64, true) !== 0x06064b50)
        fail(`zip64 end record at offset ${z64} is missing`);
      count = safeU64(view, z64 + 32, 'entry count', fail);
      dirOffset = safeU64(view, z64 + 48, 'central directory offset', fail);
    }
    const entries = new Map<string, ZipEntry>();
    let p = dirOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > buf.length || view.getUint32(p, true) !== 0x02014b50)
        fail(`central directory entry ${i} at offset ${p} is damaged`);
      const flags = view.getUint16(p + 8, true),
        method = view.getUint16(p + 10, true),
        crc = view.getUint32(p + 16, true);
      let compressedSize = view.getUint32(p + 20, true),
        size = view.getUint32(p + 24, true);
      const nameLen = view.getUint16(p + 28, true),
        extraLen = view.getUint16(p + 30, true),
        commentLen = view.getUint16(p + 32, true);
      let localOffset = view.getUint32(p + 42, true);
      if (p + 46 + nameLen + extraLen > buf.length) fail(`central directory entry ${i} runs past the end of the file`);
      const name = new TextDecoder().decode(buf.subarray(p + 46, p + 46 + nameLen));
      // zip64 extended information: the 64-bit values, in this order, for the fields set to 0xffffffff
      for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
        const id = view.getUint16(e, true),
          len = view.getUint16(e + 2, true);
        if (id === 1) {
          let q = e + 4;
          const next = (what: string) => {
            const v = safeU64(view, q, what, fail);
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = next(`size of ${name}`);
          if (compressedSize === 0xffffffff) compressedSize = next(`compressed size of ${name}`);
          if (localOffset === 0xffffffff) localOffset = next(`offset of ${name}`);
        }
        e += 4 + len;
      }
      if (entries.has(name)) fail(`entry '${name}' appears twice in the archive`);
      entries.set(name, { name, flags, method, crc, compressedSize, size, localOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return new ZipArchive(buf, entries, source, maxBytes);
  }

  /** The bytes of entry `name`, which must be exactly `expectedSize` long when that is given. */
  read(name: string, expectedSize?: number): Uint8Array {
    const fail = failFor(`${this.source}: ${name}`);
    const e = this.entries.get(name) ?? fail('missing from the archive');
    if (e.flags & 0x41 || e.method === 99)
      fail('is encrypted; encrypted archives are not supported (torch.save never encrypts)');
    if (e.method !== 0 && e.method !== 8)
      fail(`uses compression method ${e.method}; expected 0 (stored) or 8 (deflate)`);
    if (expectedSize !== undefined && e.size !== expectedSize) fail(`holds ${e.size} bytes, expected ${expectedSize}`);
    if (this.inflated + e.size > this.maxBytes) {
      fail(
        `would bring the archive's data to ${this.inflated + e.size} bytes, over the limit of ${this.maxBytes} bytes`,
      );
    }
    if (e.method === 8 && e.size > SMALL_ENTRY && e.size > MAX_DEFLATE_RATIO * e.compressedSize) {
      fail(
        `claims ${e.size} bytes from ${e.compressedSize} compressed, more than ${MAX_DEFLATE_RATIO}x (refused as a decompression bomb)`,
      );
    }
    const view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    const lo = e.localOffset;
    if (lo + 30 > this.buf.length || view.getUint32(lo, true) !== 0x04034b50)
      fail(`local header at offset ${lo} is damaged`);
    const start = lo + 30 + view.getUint16(lo + 26, true) + view.getUint16(lo + 28, true);
    if (start + e.compressedSize > this.buf.length)
      fail(`data at offset ${start} (${e.compressedSize} bytes) runs past the end of the file`);
    const raw = this.buf.subarray(start, start + e.compressedSize);
    const data = e.method === 0 ? storedData(raw, e, fail) : inflateExact(raw, e.size, 'deflate', fail);
    const crc = crc32(data);
    if (crc !== e.crc) fail(`CRC-32 is ${hex(crc)}, the archive says ${hex(e.crc)} (damaged file)`);
    this.inflated += e.size;
    return data;
  }
}

function storedData(raw: Uint8Array, e: ZipEntry, fail: (m: string) => never): Uint8Array {
  if (e.compressedSize !== e.size) fail(`is stored with ${e.compressedSize} bytes but declares ${e.size}`);
  return raw;
}

function safeU64(view: DataView, at: number, what: string, fail: (m: string) => never): number {
  if (at + 8 > view.byteLength) fail(`${what} at offset ${at} runs past the end of the file`);
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${v} is out of range`);
  return Number(v);
}

function hex(v: number): string {
  return v.toString(16).padStart(8, '0');
}
