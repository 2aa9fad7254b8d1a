// PyTorch checkpoints without Python: the zip format (torch.save since 1.6: <dir>/data.pkl plus
// <dir>/data/<key> storages) and the legacy format (_use_new_zipfile_serialization=False:
// magic, protocol, sys_info and data pickles, then the raw storages). Pickles go through the
// restricted unpickler; tensors are rebuilt from storage, offset, size and stride.
import { unzipSync } from 'fflate';
import type { DType } from '../backend/contract';
import { tensor } from '../tensor/create';
import type { Tensor } from '../tensor/tensor';
import { decode16 } from './half';
import { PyTuple, unpickle, type PyDict, type PyGlobal } from './pickle';

/** Element types of torch's storage classes. */
const STORAGE_TYPES: Record<string, { bytes: number; dtype: DType; decode: (b: Uint8Array, n: number) => ArrayLike<number> }> = {
  FloatStorage: { bytes: 4, dtype: 'float32', decode: (b, n) => new Float32Array(copy(b, 4 * n)) },
  DoubleStorage: { bytes: 8, dtype: 'float64', decode: (b, n) => new Float64Array(copy(b, 8 * n)) },
  HalfStorage: { bytes: 2, dtype: 'float32', decode: (b, n) => decode16(b, n, false) },
  BFloat16Storage: { bytes: 2, dtype: 'float32', decode: (b, n) => decode16(b, n, true) },
  LongStorage: { bytes: 8, dtype: 'int64', decode: (b, n) => Array.from(new BigInt64Array(copy(b, 8 * n)), exactInt) },
  IntStorage: { bytes: 4, dtype: 'int64', decode: (b, n) => new Int32Array(copy(b, 4 * n)) },
  ShortStorage: { bytes: 2, dtype: 'int64', decode: (b, n) => new Int16Array(copy(b, 2 * n)) },
  CharStorage: { bytes: 1, dtype: 'int64', decode: (b, n) => new Int8Array(copy(b, n)) },
  ByteStorage: { bytes: 1, dtype: 'int64', decode: (b, n) => new Uint8Array(copy(b, n)) },
  BoolStorage: { bytes: 1, dtype: 'int64', decode: (b, n) => new Uint8Array(copy(b, n)) },
};

function copy(b: Uint8Array, n: number): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + n) as ArrayBuffer;
}

function exactInt(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error(`int64 value ${v} is not exactly representable`);
  return Number(v);
}

/** A storage: its element type, element count and (once read) bytes. */
interface StorageRef { kind: string; numel: number; bytes: Uint8Array | null; base?: StorageRef; offset?: number; }
/** A tensor awaiting its storage: torch._utils._rebuild_tensor_v2's arguments. */
class TensorRef { constructor(readonly storage: StorageRef, readonly offset: number, readonly size: number[], readonly stride: number[]) {} }

function ints(v: unknown, what: string): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items || !items.every((d) => Number.isInteger(d) && (d as number) >= 0)) throw new Error(`${what} must be a tuple of non-negative integers, got ${String(v)}`);
  return items as number[];
}

/** The globals a state_dict pickle may name, and nothing else. */
function allowedGlobals(): Map<string, PyGlobal> {
  const g = new Map<string, PyGlobal>();
  const add = (module: string, name: string, call?: (args: unknown[]) => unknown) => g.set(`${module}.${name}`, { module, name, call });
  const rebuild = (args: unknown[]) => {
    const storage = args[0] as StorageRef;
    if (!storage || typeof storage !== 'object' || !('kind' in storage)) throw new Error('_rebuild_tensor: first argument is not a storage');
    const offset = args[1];
    if (!Number.isInteger(offset) || (offset as number) < 0) throw new Error(`_rebuild_tensor: storage offset ${String(offset)} is invalid`);
    return new TensorRef(storage, offset as number, ints(args[2], 'tensor size'), ints(args[3], 'tensor stride'));
  };
  add('collections', 'OrderedDict', () => new Map());
  add('torch._utils', '_rebuild_tensor_v2', rebuild);
  add('torch._utils', '_rebuild_tensor', rebuild);
  add('torch._utils', '_rebuild_parameter', (args) => args[0]);
  add('torch', 'Size', (args) => args[0]);
  for (const kind of Object.keys(STORAGE_TYPES)) add('torch', kind);
  return g;
}

function storageKind(v: unknown, source: string): string {
  const g = v as PyGlobal;
  if (!g || g.module !== 'torch' || !STORAGE_TYPES[g.name]) throw new Error(`${source}: unsupported storage type ${g && g.name ? `${g.module}.${g.name}` : String(v)}`);
  return g.name;
}

/** Copies a (possibly strided, offset) view out of its storage, checking every bound. */
function materialize(ref: TensorRef, key: string, source: string): Tensor {
  let s = ref.storage, base = ref.offset;
  while (s.base) { base += s.offset ?? 0; s = s.base; }
  const t = STORAGE_TYPES[s.kind];
  if (!s.bytes) throw new Error(`${source}: storage for '${key}' was never read`);
  const n = ref.size.reduce((a, b) => a * b, 1);
  let maxIndex = base;
  ref.size.forEach((d, i) => { if (d > 0) maxIndex += (d - 1) * (ref.stride[i] ?? 0); });
  if (ref.stride.length !== ref.size.length) throw new Error(`${source}: tensor '${key}' has ${ref.size.length} dims but ${ref.stride.length} strides`);
  if (n > 0 && maxIndex >= s.numel) throw new Error(`${source}: tensor '${key}' (offset ${ref.offset}, size [${ref.size}], stride [${ref.stride}]) reaches element ${maxIndex} of a storage with ${s.numel}`);
  const all = t.decode(s.bytes, s.numel);
  const out = new Float64Array(n);
  const idx = new Array(ref.size.length).fill(0);
  for (let i = 0; i < n; i++) {
    let at = base;
    for (let d = 0; d < idx.length; d++) at += idx[d] * ref.stride[d];
    out[i] = all[at];
    for (let d = idx.length - 1; d >= 0; d--) { if (++idx[d] < ref.size[d]) break; idx[d] = 0; }
  }
  return tensor(out, ref.size, { dtype: t.dtype });
}

/** Finds the state dict in a checkpoint: the top level, or under state_dict / model / … ; strips 'module.'. */
function findStateDict(root: unknown, source: string): Map<string, TensorRef> {
  const isTensorDict = (v: unknown): v is PyDict => v instanceof Map && v.size > 0 && [...v.values()].every((x) => x instanceof TensorRef) && [...v.keys()].every((k) => typeof k === 'string');
  let sd: PyDict | null = isTensorDict(root) ? root : null;
  if (!sd && root instanceof Map) {
    for (const key of ['state_dict', 'model_state_dict', 'model', 'module', 'state_dict_ema']) {
      if (isTensorDict(root.get(key))) { sd = root.get(key) as PyDict; break; }
    }
  }
  if (!sd) {
    const keys = root instanceof Map ? [...root.keys()].map(String).slice(0, 8).join(', ') : typeof root;
    throw new Error(`${source}: no state_dict found (top-level keys: ${keys}); expected a dict of tensors, or one under 'state_dict' or 'model'`);
  }
  const entries = [...sd] as [string, TensorRef][];
  const strip = entries.every(([k]) => k.startsWith('module.'));
  return new Map(entries.map(([k, v]) => [strip ? k.slice(7) : k, v]));
}

/** Reads a torch.save zip archive. */
function readZip(buf: Uint8Array, source: string): Map<string, Tensor> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(buf);
  } catch (e) {
    throw new Error(`${source}: not a valid zip archive (${(e as Error).message})`);
  }
  const pkl = Object.keys(files).filter((n) => n.endsWith('data.pkl') && n.split('/').length === 2);
  if (pkl.length !== 1) throw new Error(`${source}: expected one <dir>/data.pkl in the zip archive, found ${pkl.length}`);
  const prefix = pkl[0].slice(0, -'data.pkl'.length);
  const storages = new Map<string, StorageRef>();
  const { value } = unpickle(files[pkl[0]], 0, {
    source: `${source}:${pkl[0]}`,
    globals: allowedGlobals(),
    persistentLoad: (pid) => {
      const p = pid instanceof PyTuple ? pid.items : [];
      if (p[0] !== 'storage' || p.length < 5) throw new Error(`${source}: unexpected persistent id ${String(p[0])}`);
      const kind = storageKind(p[1], source), key = String(p[2]), numel = p[4] as number;
      if (!Number.isInteger(numel) || numel < 0) throw new Error(`${source}: storage ${key} has invalid size ${String(numel)}`);
      if (!storages.has(key)) {
        const data = files[`${prefix}data/${key}`];
        if (!data) throw new Error(`${source}: storage file ${prefix}data/${key} is missing from the archive`);
        if (data.length < numel * STORAGE_TYPES[kind].bytes) throw new Error(`${source}: ${prefix}data/${key} holds ${data.length} bytes, ${kind} of ${numel} elements needs ${numel * STORAGE_TYPES[kind].bytes}`);
        storages.set(key, { kind, numel, bytes: data });
      }
      return storages.get(key);
    },
  });
  return new Map([...findStateDict(value, source)].map(([k, ref]) => [k, materialize(ref, k, source)]));
}

/** Reads a legacy (pre-1.6, non-zip) torch.save file. */
function readLegacy(buf: Uint8Array, source: string): Map<string, Tensor> {
  const opts = { source, globals: allowedGlobals() };
  let pos = 0;
  const next = (extra: Partial<Parameters<typeof unpickle>[2]> = {}) => { const r = unpickle(buf, pos, { ...opts, ...extra }); pos = r.end; return r.value; };
  const magic = next();
  if (magic !== BigInt('0x1950a86a20f9469cfc6c') && magic !== 0x1950a86a20f9469cfc6c) throw new Error(`${source}: not a PyTorch legacy checkpoint (wrong magic number)`);
  const protocol = next();
  if (protocol !== 1001) throw new Error(`${source}: unsupported legacy protocol version ${String(protocol)} (expected 1001)`);
  next(); // sys_info: endianness and type sizes (little-endian, as written on every supported platform)
  const storages = new Map<string, StorageRef>();
  const root = next({
    persistentLoad: (pid) => {
      const p = pid instanceof PyTuple ? pid.items : [];
      if (p[0] !== 'storage' || p.length < 6) throw new Error(`${source}: unexpected persistent id ${String(p[0])}`);
      const kind = storageKind(p[1], source), key = String(p[2]), numel = p[4] as number;
      if (!storages.has(key)) storages.set(key, { kind, numel, bytes: null });
      const view = p[5];
      if (view instanceof PyTuple) {
        const [viewKey, offset, size] = view.items as [string, number, number];
        if (!storages.has(String(viewKey))) storages.set(String(viewKey), { kind, numel: size, bytes: null, base: storages.get(key), offset });
        return storages.get(String(viewKey));
      }
      return storages.get(key);
    },
  });
  const keys = next();
  if (!Array.isArray(keys)) throw new Error(`${source}: legacy storage key list is missing`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (const key of keys) {
    const s = storages.get(String(key));
    if (!s) throw new Error(`${source}: storage key ${String(key)} was not referenced by any tensor`);
    if (pos + 8 > buf.length) throw new Error(`${source}: truncated before storage ${String(key)} (offset ${pos})`);
    const numel = Number(view.getBigInt64(pos, true));
    pos += 8;
    const nbytes = numel * STORAGE_TYPES[s.kind].bytes;
    if (numel !== s.numel || pos + nbytes > buf.length) throw new Error(`${source}: storage ${String(key)} at offset ${pos - 8} claims ${numel} elements (expected ${s.numel}, ${buf.length - pos} bytes left)`);
    s.bytes = buf.subarray(pos, pos + nbytes);
    pos += nbytes;
  }
  return new Map([...findStateDict(root, source)].map(([k, ref]) => [k, materialize(ref, k, source)]));
}

/** Reads a PyTorch checkpoint (zip or legacy) into named tensors. */
export function parseTorchCheckpoint(buf: Uint8Array, source: string): Map<string, Tensor> {
  if (buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04) return readZip(buf, source);
  if (buf.length >= 2 && buf[0] === 0x80) return readLegacy(buf, source);
  throw new Error(`${source}: not a PyTorch checkpoint (expected a zip archive or a pickle, first bytes ${Buffer.from(buf.subarray(0, 4)).toString('hex')})`);
}
