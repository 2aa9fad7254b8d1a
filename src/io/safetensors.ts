// safetensors reading and writing: u64 little-endian header length, a JSON header naming each tensor's
// dtype, shape and [begin, end) byte range, then the raw data. Every field is validated.
import type { DType } from '../backend/contract';
import { tensor } from '../tensor/create';
import { formatShape, numel } from '../tensor/shape';
import { decode16 } from './half';
import { readFileChecked, writeFileAtomic } from './files';
import type { Tensor } from '../tensor/tensor';

const DTYPES: Record<string, { bytes: number; dtype: DType; read: (b: Buffer, off: number, n: number) => ArrayLike<number> }> = {
  F32: { bytes: 4, dtype: 'float32', read: (b, off, n) => new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + off + 4 * n)) },
  F64: { bytes: 8, dtype: 'float64', read: (b, off, n) => new Float64Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + off + 8 * n)) },
  F16: { bytes: 2, dtype: 'float32', read: (b, off, n) => decode16(b.subarray(off), n, false) },
  BF16: { bytes: 2, dtype: 'float32', read: (b, off, n) => decode16(b.subarray(off), n, true) },
  I64: {
    bytes: 8, dtype: 'int64',
    read: (b, off, n) => Array.from({ length: n }, (_, i) => {
      const v = b.readBigInt64LE(off + 8 * i);
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error(`int64 value ${v} is not exactly representable`);
      return Number(v);
    }),
  },
};

/** Parses a safetensors buffer into named tensors (in header order). `source` names the file in errors. */
export function parseSafetensors(buf: Buffer, source = 'safetensors'): Map<string, Tensor> {
  const fail = (msg: string): never => { throw new Error(`${source}: ${msg}`); };
  if (buf.length < 8) fail(`file is ${buf.length} bytes, too short for the 8-byte header length`);
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen > buf.length - 8) fail(`header length ${headerLen} at offset 0 exceeds the file size ${buf.length}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header must be a JSON object');
  const dataStart = 8 + headerLen, dataLen = buf.length - dataStart;
  const out = new Map<string, Tensor>();
  const ranges: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const spec = typeof info.dtype === 'string' ? DTYPES[info.dtype] : undefined;
    if (!spec) fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(info.dtype)}; expected one of ${Object.keys(DTYPES).join(', ')}`);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isInteger(d) && d >= 0) || offs[0] > offs[1]) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const n = numel(shape as number[]);
    if (end - begin !== n * spec!.bytes) fail(`tensor '${name}' of shape ${formatShape(shape as number[])} needs ${n * spec!.bytes} bytes but data_offsets span ${end - begin}`);
    if (end > dataLen) fail(`tensor '${name}' data_offsets [${begin}, ${end}] run past the end of the data (${dataLen} bytes)`);
    ranges.push([begin, end, name]);
    out.set(name, tensor(spec!.read(buf, dataStart + begin, n), shape as number[], { dtype: spec!.dtype }));
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) fail(`tensors '${ranges[i - 1][2]}' and '${ranges[i][2]}' have overlapping data ranges`);
  }
  return out;
}

/** Reads a .safetensors file into named tensors. */
export function loadSafetensors(path: string): Map<string, Tensor> {
  return parseSafetensors(readFileChecked(path), path);
}

const WRITE_DTYPE: Record<DType, string> = { float32: 'F32', float64: 'F64', int64: 'I64' };

/** Serialises named tensors (and optional string metadata) as safetensors, 8-byte aligned. */
export function serializeSafetensors(tensors: Map<string, Tensor>, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const blobs: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const v = t.toArray();
    const data = t.dtype === 'float32' ? Buffer.from(Float32Array.from(v).buffer)
      : t.dtype === 'float64' ? Buffer.from(Float64Array.from(v).buffer)
        : Buffer.from(BigInt64Array.from(v, (x) => BigInt(x)).buffer);
    header[name] = { dtype: WRITE_DTYPE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + data.length] };
    blobs.push(data);
    offset += data.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...blobs]);
}

/** Writes a .safetensors file atomically. */
export function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

/** The __metadata__ block of a safetensors buffer ({} if absent). */
export function safetensorsMetadata(buf: Buffer): Record<string, string> {
  const header = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString('utf8'));
  return header.__metadata__ ?? {};
}
