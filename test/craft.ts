// Crafts hostile and damaged files for the hardening tests, byte by byte: pickles (a small
// assembler for the opcodes a state_dict uses), torch.save zip archives with any flags, sizes and
// CRCs, legacy torch.save files, safetensors and .npy with hand-written headers.
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { crc32 } from '../src/io/crc32';

/** One pickle fragment: bytes to concatenate. */
type P = Buffer;
const op = (...bytes: number[]): P => Buffer.from(bytes);
const u32 = (n: number): P => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/** A pickle assembler (protocol 2) for the opcodes of a torch state_dict. */
export const pk = {
  str: (s: string): P => {
    const b = Buffer.from(s, 'utf8');
    return Buffer.concat([op(0x58), u32(b.length), b]);
  },
  int: (n: number): P => {
    if (Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(n);
      return Buffer.concat([op(0x4a), b]);
    }
    return pk.long(BigInt(n));
  },
  long: (v: bigint): P => {
    const bytes: number[] = [];
    let x = v;
    for (;;) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
      const top = bytes[bytes.length - 1] & 0x80;
      if ((x === 0n && !top) || (x === -1n && top)) break;
    }
    return Buffer.concat([op(0x8a, bytes.length), Buffer.from(bytes)]);
  },
  float: (x: number): P => {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(x);
    return Buffer.concat([op(0x47), b]);
  },
  none: (): P => op(0x4e),
  bool: (v: boolean): P => op(v ? 0x88 : 0x89),
  global: (module: string, name: string): P => Buffer.concat([op(0x63), Buffer.from(`${module}\n${name}\n`)]),
  tuple: (...items: P[]): P => Buffer.concat([op(0x28), ...items, op(0x74)]),
  list: (...items: P[]): P => Buffer.concat([op(0x5d), op(0x28), ...items, op(0x65)]),
  reduce: (fn: P, args: P): P => Buffer.concat([fn, args, op(0x52)]),
  persid: (pid: P): P => Buffer.concat([pid, op(0x51)]),
  dict: (entries: [P, P][]): P =>
    Buffer.concat([op(0x7d), ...(entries.length ? [op(0x28), ...entries.flat(), op(0x75)] : [])]),
  /** A whole pickle: PROTO 2, the value, STOP. */
  program: (value: P): P => Buffer.concat([op(0x80, 2), value, op(0x2e)]),
};

/** One tensor of a crafted state dict: its storage key, element count, and view. */
export interface TensorSpec {
  storage: string;
  numel: unknown;
  offset?: unknown;
  size: unknown[];
  stride: unknown[];
  /** A legacy view: (view key, offset, size) of the storage. */
  view?: [string, unknown, unknown];
}

/** The state_dict pickle: OrderedDict of name → _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()). */
export function stateDictPickle(tensors: Record<string, TensorSpec>, legacy: boolean): Buffer {
  const num = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? pk.float(v) : pk.int(v as number));
  const entries: [P, P][] = Object.entries(tensors).map(([name, t]) => {
    const pidItems = [
      pk.str('storage'),
      pk.global('torch', 'FloatStorage'),
      pk.str(t.storage),
      pk.str('cpu'),
      num(t.numel),
    ];
    if (legacy) pidItems.push(t.view ? pk.tuple(pk.str(t.view[0]), num(t.view[1]), num(t.view[2])) : pk.none());
    const args = pk.tuple(
      pk.persid(pk.tuple(...pidItems)),
      num(t.offset ?? 0),
      pk.tuple(...t.size.map(num)),
      pk.tuple(...t.stride.map(num)),
      pk.bool(false),
      pk.reduce(pk.global('collections', 'OrderedDict'), pk.tuple()),
    );
    return [pk.str(name), pk.reduce(pk.global('torch._utils', '_rebuild_tensor_v2'), args)];
  });
  return pk.program(
    Buffer.concat([
      pk.reduce(pk.global('collections', 'OrderedDict'), pk.tuple()),
      op(0x28),
      ...entries.flat(),
      op(0x75),
    ]),
  );
}

/** One zip entry as it will be written: raw (possibly compressed) bytes and what the headers claim. */
export interface ZipEntrySpec {
  name: string;
  raw: Buffer;
  method: number;
  crc: number;
  size: number;
  flags?: number;
}

/** A stored entry with the right CRC and size. */
export function stored(name: string, data: Buffer): ZipEntrySpec {
  return { name, raw: data, method: 0, crc: crc32(data), size: data.length };
}

/**
 * A deflate stream that inflates to `mib` MiB of zeros from ~1 KiB per MiB: one full-flushed
 * block repeated (a full flush resets the window, so the copies are independent), then an empty
 * final block.
 */
export function zeroBomb(mib: number): Buffer {
  const one = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlibConstants.Z_FULL_FLUSH });
  return Buffer.concat([...Array.from({ length: mib }, () => one), Buffer.from([0x03, 0x00])]);
}

/** Writes a zip archive from entries exactly as specified (flags, CRCs and sizes may lie). */
export function zipArchive(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [],
    centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    // the fields both headers share, in the same order: version needed, flags, method, time, date,
    // CRC, compressed and uncompressed size, name length (local header at offset 4, central at 6)
    const shared = Buffer.alloc(24);
    shared.writeUInt16LE(20, 0);
    shared.writeUInt16LE(e.flags ?? 0, 2);
    shared.writeUInt16LE(e.method, 4);
    shared.writeUInt32LE(e.crc, 10);
    shared.writeUInt32LE(e.raw.length, 14);
    shared.writeUInt32LE(e.size, 18);
    shared.writeUInt16LE(name.length, 22);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    shared.copy(local, 4);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    shared.copy(central, 6);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, e.raw);
    centrals.push(central, name);
    offset += 30 + name.length + e.raw.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

/** A torch.save zip archive: archive/data.pkl, the storages (stored), archive/version, then `extra` entries. */
export function torchZip(pickle: Buffer, storages: Record<string, Buffer>, extra: ZipEntrySpec[] = []): Buffer {
  return zipArchive([
    stored('archive/data.pkl', pickle),
    ...Object.entries(storages).map(([k, v]) => stored(`archive/data/${k}`, v)),
    stored('archive/version', Buffer.from('3\n')),
    ...extra,
  ]);
}

/** A legacy torch.save file: magic, protocol 1001, sys_info, the state dict, the key list, then each storage. */
export function torchLegacy(pickle: Buffer, storages: Record<string, Buffer>): Buffer {
  const sysInfo = pk.program(pk.dict([[pk.str('little_endian'), pk.bool(true)]]));
  const keys = pk.program(pk.list(...Object.keys(storages).map(pk.str)));
  const blobs = Object.values(storages).flatMap((b) => {
    const n = Buffer.alloc(8);
    n.writeBigInt64LE(BigInt(b.length / 4));
    return [n, b];
  });
  return Buffer.concat([
    pk.program(pk.long(0x1950a86a20f9469cfc6cn)),
    pk.program(pk.int(1001)),
    sysInfo,
    pickle,
    keys,
    ...blobs,
  ]);
}

/** float32 values as bytes. */
export function f32(...values: number[]): Buffer {
  return Buffer.from(new Float32Array(values).buffer);
}

/** A safetensors file from a header written as raw JSON text (so it can hold duplicate keys). */
export function safetensorsRaw(headerJson: string, data: Buffer): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(headerJson)));
  return Buffer.concat([len, Buffer.from(headerJson), data]);
}

/** A .npy file (format 1.0) from a raw header dict literal. */
export function npyRaw(header: string, data: Buffer): Buffer {
  const text = `${header}${' '.repeat(63 - ((10 + header.length) % 64))}\n`;
  const len = Buffer.alloc(2);
  len.writeUInt16LE(text.length);
  return Buffer.concat([
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]),
    len,
    Buffer.from(text, 'latin1'),
    data,
  ]);
}
