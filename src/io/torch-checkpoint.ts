// PyTorch checkpoints without Python: the zip format (torch.save since 1.6: <dir>/data.pkl plus
// <dir>/data/<key> storages) and the legacy format (_use_new_zipfile_serialization=False:
// magic, protocol, sys_info and data pickles, then the raw storages). Pickles go through the
// restricted unpickler; every storage size, view and offset is checked before a byte is read, and
// only the storages the pickle references are read (zip entries nothing refers to never are).
import type { DType } from '../backend/contract';
import { tensor } from '../tensor/create';
import type { Tensor } from '../tensor/tensor';
import { describeValue, failFor } from './errors';
import { decode16 } from './half';
import { isCount } from './json';
import { PyTuple, unpickle, type PyDict, type PyGlobal } from './pickle';
import { ZipArchive } from './zip';

/** The most bytes of tensor data one checkpoint may hold by default (4 GiB, what wasm32 can address). */
export const DEFAULT_MAX_CHECKPOINT_BYTES = 4 * 1024 ** 3;

type Decode = (b: Uint8Array, n: number) => ArrayLike<number>;
/** Element types of torch's storage classes. */
const STORAGE_TYPES: Record<string, { bytes: number; dtype: DType; decode: Decode }> = {
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
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
    throw new Error(`int64 value ${v} is not exactly representable`);
  return Number(v);
}

/** A storage: its element type, element count and (once read) bytes; a legacy view has a base and an offset. */
interface StorageRef {
  kind: string;
  numel: number;
  bytes: Uint8Array | null;
  base?: StorageRef;
  offset?: number;
  decoded?: ArrayLike<number>;
}
/** A tensor awaiting its storage: torch._utils._rebuild_tensor_v2's arguments. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** A non-negative integer field of the file, or an error naming it (torch.load refuses the same values). */
function count(v: unknown, what: string): number {
  if (!isCount(v)) throw new Error(`${what} is ${describeValue(v)}, expected a non-negative integer`);
  return v;
}

function ints(v: unknown, what: string): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items) throw new Error(`${what} is ${describeValue(v)}, expected a tuple of non-negative integers`);
  return items.map((d, i) => count(d, `${what}[${i}]`));
}

/** The globals a state_dict pickle may name, and nothing else. */
function allowedGlobals(): Map<string, PyGlobal> {
  const g = new Map<string, PyGlobal>();
  const add = (module: string, name: string, call?: (args: unknown[]) => unknown) =>
    g.set(`${module}.${name}`, { module, name, call });
  const rebuild = (args: unknown[]) => {
    const storage = args[0] as StorageRef;
    if (!storage || typeof storage !== 'object' || !('kind' in storage))
      throw new Error(`first argument is ${describeValue(storage)}, expected a storage`);
    const size = ints(args[2], 'tensor size'),
      stride = ints(args[3], 'tensor stride');
    if (size.length !== stride.length) throw new Error(`tensor has ${size.length} dims but ${stride.length} strides`);
    return new TensorRef(storage, count(args[1], 'storage offset'), size, stride);
  };
  add('collections', 'OrderedDict', () => new Map());
  add('torch._utils', '_rebuild_tensor_v2', rebuild);
  add('torch._utils', '_rebuild_tensor', rebuild);
  add('torch._utils', '_rebuild_parameter', (args) => args[0]);
  add('torch', 'Size', (args) => args[0]);
  for (const kind of Object.keys(STORAGE_TYPES)) add('torch', kind);
  return g;
}

/** The fields of a persistent id ('storage', type, key, location, numel[, view]) both formats share. */
function storageId(
  pid: unknown,
  minLength: number,
  fail: (m: string) => never,
): { kind: string; key: string; numel: number; items: unknown[] } {
  const p = pid instanceof PyTuple ? pid.items : [];
  if (p[0] !== 'storage' || p.length < minLength) {
    fail(
      `persistent id is ${describeValue(pid instanceof PyTuple ? p[0] : pid)}, expected ('storage', type, key, location, numel)`,
    );
  }
  const g = p[1] as PyGlobal;
  if (g?.module !== 'torch' || !STORAGE_TYPES[g.name])
    fail(`unsupported storage type ${g?.name ? `${g.module}.${g.name}` : describeValue(g)}`);
  if (typeof p[2] !== 'string') fail(`storage key is ${describeValue(p[2])}, expected a string`);
  try {
    return { kind: g.name, key: p[2] as string, numel: count(p[4], `storage ${p[2]} element count`), items: p };
  } catch (e) {
    return fail((e as Error).message);
  }
}

/** Copies a (possibly strided, offset) view out of its storage, checking every bound and the byte budget. */
function materialize(ref: TensorRef, key: string, fail: (m: string) => never, budget: { left: number }): Tensor {
  let s = ref.storage,
    base = ref.offset;
  while (s.base) {
    base += s.offset ?? 0;
    s = s.base;
  }
  const t = STORAGE_TYPES[s.kind];
  if (!s.bytes) fail(`storage for '${key}' was never read`);
  const n = ref.size.reduce((a, b) => a * b, 1);
  let maxIndex = base;
  ref.size.forEach((d, i) => {
    if (d > 0) maxIndex += (d - 1) * ref.stride[i];
  });
  if (n > 0 && maxIndex >= s.numel) {
    fail(
      `tensor '${key}' (offset ${ref.offset}, size [${ref.size}], stride [${ref.stride}]) reaches element ${maxIndex} of a storage with ${s.numel}`,
    );
  }
  budget.left -= n * 4;
  if (budget.left < 0)
    fail(`tensor '${key}' of size [${ref.size}] brings the checkpoint over its limit of tensor data`);
  try {
    s.decoded ??= t.decode(s.bytes!, s.numel);
  } catch (e) {
    fail(`storage of '${key}': ${(e as Error).message}`);
  }
  const all = s.decoded!;
  const out =
    t.dtype === 'float64' ? new Float64Array(n) : t.dtype === 'float32' ? new Float32Array(n) : new Array<number>(n);
  const idx = new Array(ref.size.length).fill(0);
  for (let i = 0; i < n; i++) {
    let at = base;
    for (let d = 0; d < idx.length; d++) at += idx[d] * ref.stride[d];
    out[i] = all[at];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < ref.size[d]) break;
      idx[d] = 0;
    }
  }
  return tensor(out, ref.size, { dtype: t.dtype });
}

/** Finds the state dict in a checkpoint: the top level, or under state_dict / model / … ; strips 'module.'. */
function findStateDict(root: unknown, fail: (m: string) => never): Map<string, TensorRef> {
  const isTensorDict = (v: unknown): v is PyDict =>
    v instanceof Map &&
    v.size > 0 &&
    [...v.values()].every((x) => x instanceof TensorRef) &&
    [...v.keys()].every((k) => typeof k === 'string');
  let sd: PyDict | null = isTensorDict(root) ? root : null;
  if (!sd && root instanceof Map) {
    for (const key of ['state_dict', 'model_state_dict', 'model', 'module', 'state_dict_ema']) {
      if (isTensorDict(root.get(key))) {
        sd = root.get(key) as PyDict;
        break;
      }
    }
  }
  if (!sd) {
    const keys = root instanceof Map ? [...root.keys()].slice(0, 8).map(describeValue).join(', ') : describeValue(root);
    return fail(
      `no state_dict found (top level: ${keys}); expected a dict of tensors, or one under 'state_dict' or 'model'`,
    );
  }
  const entries = [...sd] as [string, TensorRef][];
  const strip = entries.every(([k]) => k.startsWith('module.'));
  return new Map(entries.map(([k, v]) => [strip ? k.slice(7) : k, v]));
}

function materializeAll(root: unknown, fail: (m: string) => never, maxBytes: number): Map<string, Tensor> {
  const budget = { left: maxBytes };
  return new Map([...findStateDict(root, fail)].map(([k, ref]) => [k, materialize(ref, k, fail, budget)]));
}

/** Reads a torch.save zip archive: only data.pkl and the storages it references are inflated. */
function readZip(buf: Uint8Array, source: string, maxBytes: number): Map<string, Tensor> {
  const fail = failFor(source);
  const zip = ZipArchive.open(buf, source, maxBytes);
  const pkl = [...zip.entries.keys()].filter((n) => n.endsWith('/data.pkl') && n.split('/').length === 2);
  if (pkl.length !== 1) fail(`expected one <dir>/data.pkl in the zip archive, found ${pkl.length}`);
  const prefix = pkl[0].slice(0, -'data.pkl'.length);
  const storages = new Map<string, StorageRef>();
  const { value } = unpickle(zip.read(pkl[0]), 0, {
    source: `${source}:${pkl[0]}`,
    globals: allowedGlobals(),
    persistentLoad: (pid) => {
      const { kind, key, numel } = storageId(pid, 5, fail);
      const known = storages.get(key);
      if (known) {
        if (known.kind !== kind || known.numel !== numel)
          fail(`storage ${key} is referenced as ${known.kind} of ${known.numel} and as ${kind} of ${numel}`);
        return known;
      }
      const ref = { kind, numel, bytes: zip.read(`${prefix}data/${key}`, numel * STORAGE_TYPES[kind].bytes) };
      storages.set(key, ref);
      return ref;
    },
  });
  return materializeAll(value, fail, maxBytes);
}

/** Reads a legacy (pre-1.6, non-zip) torch.save file. */
function readLegacy(buf: Uint8Array, source: string, maxBytes: number): Map<string, Tensor> {
  const fail = failFor(source);
  const opts = { source, globals: allowedGlobals() };
  let pos = 0;
  const next = (extra: Partial<Parameters<typeof unpickle>[2]> = {}) => {
    const r = unpickle(buf, pos, { ...opts, ...extra });
    pos = r.end;
    return r.value;
  };
  const magic = next();
  // a 77-bit integer: the unpickler gives it as a BigInt
  if (magic !== BigInt('0x1950a86a20f9469cfc6c')) fail('not a PyTorch legacy checkpoint (wrong magic number)');
  const protocol = next();
  if (protocol !== 1001) fail(`unsupported legacy protocol version ${describeValue(protocol)} (expected 1001)`);
  next(); // sys_info: endianness and type sizes (little-endian, as written on every supported platform)
  const storages = new Map<string, StorageRef>();
  const root = next({
    persistentLoad: (pid) => {
      const { kind, key, numel, items } = storageId(pid, 6, fail);
      const known = storages.get(key);
      if (known && (known.kind !== kind || known.numel !== numel))
        fail(`storage ${key} is referenced with two types or sizes`);
      if (!known) storages.set(key, { kind, numel, bytes: null });
      const view = items[5];
      if (view === null) return storages.get(key);
      if (!(view instanceof PyTuple) || view.items.length !== 3 || typeof view.items[0] !== 'string') {
        return fail(`storage ${key} has view ${describeValue(view)}, expected None or (key, offset, size)`);
      }
      const viewKey = view.items[0] as string;
      let offset = 0,
        size = 0;
      try {
        offset = count(view.items[1], `view ${viewKey} offset`);
        size = count(view.items[2], `view ${viewKey} size`);
      } catch (e) {
        fail((e as Error).message);
      }
      if (offset + size > numel)
        fail(`view ${viewKey} (offset ${offset}, size ${size}) runs past storage ${key} of ${numel} elements`);
      if (!storages.has(viewKey))
        storages.set(viewKey, { kind, numel: size, bytes: null, base: storages.get(key), offset });
      return storages.get(viewKey);
    },
  });
  const keys = next();
  if (!Array.isArray(keys)) fail(`legacy storage key list is ${describeValue(keys)}, expected a list`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let total = 0;
  for (const key of keys as unknown[]) {
    const s = typeof key === 'string' ? storages.get(key) : undefined;
    if (!s || s.base) fail(`storage key ${describeValue(key)} was not referenced by any tensor`);
    if (s!.bytes) fail(`storage ${key} appears twice in the key list`);
    if (pos + 8 > buf.length) fail(`truncated before storage ${key} (offset ${pos})`);
    const numel = view.getBigInt64(pos, true);
    pos += 8;
    const nbytes = s!.numel * STORAGE_TYPES[s!.kind].bytes;
    if (numel !== BigInt(s!.numel) || pos + nbytes > buf.length) {
      fail(
        `storage ${key} at offset ${pos - 8} claims ${numel} elements (expected ${s!.numel}, ${buf.length - pos} bytes left)`,
      );
    }
    total += nbytes;
    if (total > maxBytes) fail(`storages reach ${total} bytes, over the limit of ${maxBytes}`);
    s!.bytes = buf.subarray(pos, pos + nbytes);
    pos += nbytes;
  }
  return materializeAll(root, fail, maxBytes);
}

/** Options for reading checkpoints. */
export interface CheckpointOptions {
  /** The most bytes of tensor data to read (default DEFAULT_MAX_CHECKPOINT_BYTES). */
  maxBytes?: number;
}

/** True when `buf` starts like a zip archive (a local file header). */
export function isZip(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

/** Reads a PyTorch checkpoint (zip or legacy) into named tensors. */
export function parseTorchCheckpoint(
  buf: Uint8Array,
  source: string,
  opts: CheckpointOptions = {},
): Map<string, Tensor> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_CHECKPOINT_BYTES;
  if (isZip(buf)) return readZip(buf, source, maxBytes);
  if (buf.length >= 2 && buf[0] === 0x80) return readLegacy(buf, source, maxBytes);
  return failFor(source)(
    `not a PyTorch checkpoint (expected a zip archive or a pickle, first bytes ${hexBytes(buf.subarray(0, 4))})`,
  );
}

/** The first bytes of a buffer in hex, for error messages. */
export function hexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
