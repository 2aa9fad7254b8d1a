// NumPy .npy files (format 1.0–3.0): float32, float64 and int64 in C order, little-endian.
import { tensor } from '../tensor/create';
import type { Tensor } from '../tensor/tensor';
import { readFileChecked, writeFileAtomic } from './files';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const DESCR = { float32: '<f4', float64: '<f8', int64: '<i8' } as const;

/** Parses a .npy buffer. */
export function parseNpy(buf: Buffer, source = 'npy'): Tensor {
  const fail = (msg: string): never => { throw new Error(`${source}: ${msg}`); };
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) fail('not a .npy file (missing the \\x93NUMPY magic)');
  const major = buf[6];
  if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}.${buf[7]}`);
  const lenBytes = major === 1 ? 2 : 4;
  const headerLen = lenBytes === 2 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = 8 + lenBytes + headerLen;
  if (start > buf.length) fail(`header length ${headerLen} runs past the end of the file (${buf.length} bytes)`);
  const header = buf.subarray(8 + lenBytes, start).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`malformed header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') fail('Fortran-order arrays are not supported; save with np.ascontiguousarray');
  const dtype = (Object.keys(DESCR) as (keyof typeof DESCR)[]).find((d) => DESCR[d] === descr);
  if (!dtype) fail(`unsupported dtype '${descr}'; expected one of ${Object.values(DESCR).join(', ')} (float32, float64, int64, little-endian)`);
  const shape = shapeText!.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    if (!/^\d+$/.test(s)) fail(`malformed shape (${shapeText})`);
    return Number(s);
  });
  const n = shape.reduce((a, b) => a * b, 1), width = dtype === 'float32' ? 4 : 8;
  if (buf.length - start !== n * width) fail(`data holds ${buf.length - start} bytes, shape (${shape.join(', ')}) of ${descr} needs ${n * width}`);
  const raw = buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + n * width);
  const values = dtype === 'float32' ? new Float32Array(raw) : dtype === 'float64' ? new Float64Array(raw)
    : Array.from(new BigInt64Array(raw), (v) => {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) fail(`int64 value ${v} is not exactly representable`);
      return Number(v);
    });
  return tensor(values, shape, { dtype: dtype! });
}

/** Serialises a tensor as .npy (format 1.0, C order). */
export function serializeNpy(t: Tensor): Buffer {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // pad so the data starts at a multiple of 64 bytes, ending the header with a newline
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const len = Buffer.alloc(2);
  len.writeUInt16LE(header.length);
  const values = t.toArray();
  const data = t.dtype === 'float32' ? Buffer.from(Float32Array.from(values).buffer)
    : t.dtype === 'float64' ? Buffer.from(Float64Array.from(values).buffer)
      : Buffer.from(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
  return Buffer.concat([MAGIC, Buffer.from([1, 0]), len, Buffer.from(header, 'latin1'), data]);
}

/** Reads a .npy file. */
export function loadNpy(path: string): Tensor {
  return parseNpy(readFileChecked(path), path);
}

/** Writes a .npy file atomically. */
export function saveNpy(path: string, t: Tensor): void {
  writeFileAtomic(path, serializeNpy(t));
}
