// safetensors reading and writing: u64 little-endian header length, a JSON header naming each tensor's
// dtype, shape and [begin, end) byte range, then the raw data. Every field is validated.
import type { DType } from '../backend/contract';
import { tensor } from '../tensor/create';
import { formatShape, numel } from '../tensor/shape';
import { describeValue, failFor } from './errors';
import { decode16 } from './half';
import { isJsonObject, parseJsonStrict, type JsonObject } from './json';
import { concatBytes, uintLE, utf8Bytes } from './bytes';
import type { Tensor } from '../tensor/tensor';

const DTYPES: Record<string, { bytes: number; dtype: DType; read: (b: Uint8Array, n: number) => ArrayLike<number> }> = {
  F32: { bytes: 4, dtype: 'float32', read: (b, n) => new Float32Array(copy(b, 4 * n)) },
  F64: { bytes: 8, dtype: 'float64', read: (b, n) => new Float64Array(copy(b, 8 * n)) },
  F16: { bytes: 2, dtype: 'float32', read: (b, n) => decode16(b, n, false) },
  BF16: { bytes: 2, dtype: 'float32', read: (b, n) => decode16(b, n, true) },
  // int8 model files' quantised weights (io/int8-weights.ts): integers held as float32
  I8: { bytes: 1, dtype: 'float32', read: (b, n) => Float32Array.from(new Int8Array(copy(b, n))) },
  I64: {
    bytes: 8,
    dtype: 'int64',
    read: (b, n) =>
      Array.from(new BigInt64Array(copy(b, 8 * n)), (v) => {
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
          throw new Error(`int64 value ${v} is not exactly representable`);
        return Number(v);
      }),
  },
};

function copy(b: Uint8Array, n: number): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + n) as ArrayBuffer;
}

/** The key of the optional string-to-string metadata block; no tensor may have this name. */
export const METADATA_KEY = '__metadata__';

/** A parsed safetensors file: tensors in header order, and the metadata block. */
export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Map<string, string>;
}

/** Parses and validates the JSON header of a safetensors buffer. */
function readHeader(buf: Uint8Array, source: string): { header: JsonObject; dataStart: number } {
  const fail = failFor(source);
  if (buf.length < 8) fail(`file is ${buf.length} bytes, too short for the 8-byte header length`);
  const headerLen = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(buf.length - 8)) {
    fail(
      `header length ${headerLen} (the file's first 8 bytes) exceeds the file size ${buf.length}; not a safetensors file?`,
    );
  }
  const end = 8 + Number(headerLen);
  if (buf[8] !== 0x7b)
    fail(`header does not start with '{' (found byte 0x${(buf[8] ?? 0).toString(16)}); not a safetensors file?`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, end));
  } catch {
    fail('header is not valid UTF-8');
  }
  const header = parseJsonStrict(text, `${source}: header`);
  if (!isJsonObject(header)) fail('header must be a JSON object');
  return { header: header as JsonObject, dataStart: end };
}

/** Parses a safetensors buffer: tensors (in header order) and metadata. `source` names the file in errors. */
export function readSafetensors(buf: Uint8Array, source = 'safetensors'): SafetensorsContents {
  const fail = failFor(source);
  const { header, dataStart } = readHeader(buf, source);
  const dataLen = buf.length - dataStart;
  const tensors = new Map<string, Tensor>();
  const metadata = new Map<string, string>();
  const ranges: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (!isJsonObject(raw)) fail(`${METADATA_KEY} is ${describeValue(raw)}, expected an object of strings`);
      for (const [k, v] of Object.entries(raw as JsonObject)) {
        if (typeof v !== 'string') fail(`${METADATA_KEY}.${k} is ${describeValue(v)}, expected a string`);
        metadata.set(k, v as string);
      }
      continue;
    }
    if (!isJsonObject(raw))
      fail(`tensor '${name}' is described by ${describeValue(raw)}, expected {dtype, shape, data_offsets}`);
    const info = raw as JsonObject;
    const spec = typeof info.dtype === 'string' ? DTYPES[info.dtype] : undefined;
    if (!spec)
      fail(
        `tensor '${name}' has unsupported dtype ${JSON.stringify(info.dtype)}; expected one of ${Object.keys(DTYPES).join(', ')}`,
      );
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    const offs = info.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      offs[0] > offs[1]
    ) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (end > dataLen)
      fail(`tensor '${name}' data_offsets [${begin}, ${end}] run past the end of the data (${dataLen} bytes)`);
    const n = numel(shape as number[]);
    if (end - begin !== n * spec!.bytes) {
      fail(
        `tensor '${name}' of shape ${formatShape(shape as number[])} needs ${n * spec!.bytes} bytes but data_offsets span ${end - begin}`,
      );
    }
    ranges.push([begin, end, name]);
    let values: ArrayLike<number> = [];
    try {
      values = spec!.read(buf.subarray(dataStart + begin, dataStart + end), n);
    } catch (e) {
      fail(`tensor '${name}': ${(e as Error).message}`);
    }
    tensors.set(name, tensor(values, shape as number[], { dtype: spec!.dtype }));
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1])
      fail(`tensors '${ranges[i - 1][2]}' and '${ranges[i][2]}' have overlapping data ranges`);
  }
  return { tensors, metadata };
}

/** Parses a safetensors buffer into named tensors (in header order). `source` names the file in errors. */
export function parseSafetensors(buf: Uint8Array, source = 'safetensors'): Map<string, Tensor> {
  return readSafetensors(buf, source).tensors;
}

const WRITE_DTYPE: Record<DType, string> = { float32: 'F32', float64: 'F64', int64: 'I64' };

/** A tensor's values as little-endian bytes of its dtype (what a safetensors file stores). */
export function tensorBytes(t: Tensor): Uint8Array {
  const v = t.toArray();
  const typed =
    t.dtype === 'float32'
      ? Float32Array.from(v)
      : t.dtype === 'float64'
        ? Float64Array.from(v)
        : BigInt64Array.from(v, (x) => BigInt(x));
  return new Uint8Array(typed.buffer);
}

/** The bytes of an I8 tensor: its values must be integers in [-128, 127]. */
function int8Bytes(name: string, t: Tensor): Uint8Array {
  const v = t.toArray();
  const out = new Int8Array(v.length);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isInteger(v[i]) || v[i] < -128 || v[i] > 127)
      throw new Error(`safetensors: '${name}' is stored as I8 but holds ${v[i]} at ${i}`);
    out[i] = v[i];
  }
  return new Uint8Array(out.buffer);
}

/**
 * Serialises named tensors (and optional string metadata) as safetensors, 8-byte aligned; the
 * tensors named in `int8` are stored as I8 (their values must be integers in [-128, 127]).
 */
export function serializeSafetensors(
  tensors: Map<string, Tensor>,
  metadata?: Record<string, string> | Map<string, string>,
  int8: ReadonlySet<string> = new Set(),
): Uint8Array {
  if (tensors.has(METADATA_KEY))
    throw new Error(`safetensors: a tensor may not be named '${METADATA_KEY}' (the format reserves it)`);
  // the header is written member by member from Maps: any name, '__proto__' included, is an ordinary key
  const members: string[] = [];
  if (metadata) {
    const meta = metadata instanceof Map ? [...metadata] : Object.entries(metadata);
    members.push(
      `${JSON.stringify(METADATA_KEY)}:{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`,
    );
  }
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const data = int8.has(name) ? int8Bytes(name, t) : tensorBytes(t);
    const dtype = int8.has(name) ? 'I8' : WRITE_DTYPE[t.dtype];
    const info = { dtype, shape: [...t.shape], data_offsets: [offset, offset + data.length] };
    members.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    blobs.push(data);
    offset += data.length;
  }
  const header = utf8Bytes(`{${members.join(',')}}`);
  const padded = concatBytes([header, utf8Bytes(' '.repeat((8 - (header.length % 8)) % 8))]);
  return concatBytes([uintLE(padded.length, 8), padded, ...blobs]);
}

/** The metadata block of a safetensors buffer (empty if absent), as a plain record. */
export function safetensorsMetadata(buf: Uint8Array, source = 'safetensors'): Record<string, string> {
  const { header } = readHeader(buf, source);
  const meta = header[METADATA_KEY];
  // fromEntries defines own properties: a '__proto__' key stays an ordinary key
  return Object.fromEntries(
    isJsonObject(meta) ? Object.entries(meta).filter(([, v]) => typeof v === 'string') : [],
  ) as Record<string, string>;
}
