// NumPy .npy files (format 1.0–3.0): float32, float64 and int64 in C order, little-endian.
import { tensor } from '../tensor/create';
import type { Tensor } from '../tensor/tensor';
import { failFor } from './errors';
import { concatBytes, uintLE, utf8Bytes } from './bytes';

const MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY
const DESCR = { float32: '<f4', float64: '<f8', int64: '<i8' } as const;

/** The three fields of a .npy header. */
interface NpyHeader {
  descr: string;
  fortran_order: boolean;
  shape: number[];
}

/**
 * Parses the header, a Python dict literal such as {'descr': '<f4', 'fortran_order': False,
 * 'shape': (2, 3), }: exactly these three keys, each once (numpy requires the same set).
 */
function parseHeader(text: string, fail: (m: string) => never): NpyHeader {
  const tokens = text.trim().match(/'[^']*'|"[^"]*"|\w+|[{}():,]|\S/g) ?? [];
  let i = 0;
  const peek = () => tokens[i],
    next = () => tokens[i++];
  const expect = (t: string) => {
    if (next() !== t) fail(`malformed header ${JSON.stringify(text.trim())}: expected '${t}' at token ${i}`);
  };
  const str = (t: string | undefined) =>
    t && /^['"]/.test(t) ? t.slice(1, -1) : fail(`malformed header ${JSON.stringify(text.trim())}: expected a string`);
  const fields: Partial<NpyHeader> = {};
  expect('{');
  while (peek() !== '}') {
    const key = str(next());
    expect(':');
    if (Object.hasOwn(fields, key)) fail(`header key '${key}' appears twice`);
    if (key === 'descr') fields.descr = str(next());
    else if (key === 'fortran_order') {
      const v = next();
      if (v !== 'True' && v !== 'False') fail(`header fortran_order is ${v}, expected True or False`);
      fields.fortran_order = v === 'True';
    } else if (key === 'shape') {
      expect('(');
      const dims: number[] = [];
      while (peek() !== ')') {
        const d = next() ?? '';
        if (!/^\d+$/.test(d) || !Number.isSafeInteger(Number(d)))
          fail(`header shape holds '${d}', expected non-negative integers`);
        dims.push(Number(d));
        if (peek() === ',') next();
        else if (peek() !== ')') fail(`malformed shape in header ${JSON.stringify(text.trim())}`);
      }
      expect(')');
      fields.shape = dims;
    } else fail(`header key '${key}' is not one of descr, fortran_order, shape`);
    if (peek() === ',') next();
    else if (peek() !== '}') fail(`malformed header ${JSON.stringify(text.trim())}`);
  }
  expect('}');
  if (i !== tokens.length) fail(`malformed header ${JSON.stringify(text.trim())}: text after the closing brace`);
  for (const k of ['descr', 'fortran_order', 'shape'] as const)
    if (fields[k] === undefined) fail(`header has no '${k}'`);
  return fields as NpyHeader;
}

/** Parses a .npy buffer. */
export function parseNpy(buf: Uint8Array, source = 'npy'): Tensor {
  const fail = failFor(source);
  if (buf.length < 10 || !MAGIC.every((b, i) => buf[i] === b)) fail('not a .npy file (missing the \\x93NUMPY magic)');
  const major = buf[6];
  if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}.${buf[7]}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (buf.length < 8 + lenBytes) fail(`file is ${buf.length} bytes, too short for its header length`);
  const headerLen = lenBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes + headerLen;
  if (start > buf.length) fail(`header length ${headerLen} runs past the end of the file (${buf.length} bytes)`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(8 + lenBytes, start));
  const { descr, fortran_order: fortran, shape } = parseHeader(header, fail);
  if (fortran) fail('Fortran-order arrays are not supported; save with np.ascontiguousarray');
  const dtype = (Object.keys(DESCR) as (keyof typeof DESCR)[]).find((d) => DESCR[d] === descr);
  if (!dtype)
    fail(
      `unsupported dtype '${descr}'; expected one of ${Object.values(DESCR).join(', ')} (float32, float64, int64, little-endian)`,
    );
  const n = shape.reduce((a, b) => a * b, 1),
    width = dtype === 'float32' ? 4 : 8;
  if (buf.length - start !== n * width)
    fail(`data holds ${buf.length - start} bytes, shape (${shape.join(', ')}) of ${descr} needs ${n * width}`);
  const raw = buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + n * width) as ArrayBuffer;
  const values =
    dtype === 'float32'
      ? new Float32Array(raw)
      : dtype === 'float64'
        ? new Float64Array(raw)
        : Array.from(new BigInt64Array(raw), (v) => {
            if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
              fail(`int64 value ${v} is not exactly representable`);
            return Number(v);
          });
  return tensor(values, shape, { dtype: dtype! });
}

/** Serialises a tensor as .npy (format 1.0, C order). */
export function serializeNpy(t: Tensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // pad so the data starts at a multiple of 64 bytes, ending the header with a newline (ASCII only)
  header += `${' '.repeat(63 - ((10 + header.length) % 64))}\n`;
  const values = t.toArray();
  const data =
    t.dtype === 'float32'
      ? Float32Array.from(values)
      : t.dtype === 'float64'
        ? Float64Array.from(values)
        : BigInt64Array.from(values, (v) => BigInt(v));
  return concatBytes([
    MAGIC,
    Uint8Array.of(1, 0),
    uintLE(header.length, 2),
    utf8Bytes(header),
    new Uint8Array(data.buffer),
  ]);
}
