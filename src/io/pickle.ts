// A restricted unpickler: it interprets only the pickle opcodes a PyTorch state_dict uses and
// resolves only allow-listed globals (OrderedDict, the tensor rebuild functions, storage types,
// torch.Size). Any other global (os.system, builtins.eval, …) or opcode is refused with an error
// naming it; nothing is ever executed.
import { FileFormatError } from './errors';

/** A Python tuple. */
export class PyTuple {
  constructor(readonly items: unknown[]) {}
}
/** A Python dict (ordered, as OrderedDict and every dict since 3.7). */
export type PyDict = Map<unknown, unknown>;
/** A resolved allow-listed global: a name plus what calling it does. */
export interface PyGlobal {
  readonly module: string;
  readonly name: string;
  call?(args: unknown[]): unknown;
}

/** What the caller allows: globals by "module.name", and persistent ids. */
export interface UnpickleOptions {
  globals: ReadonlyMap<string, PyGlobal>;
  persistentLoad?(pid: unknown): unknown;
  /** Names the file in errors. */
  source: string;
}

const MARK = Symbol('mark');

/** Unpickles one pickle stream starting at `offset`; returns the value and the offset after STOP. */
export function unpickle(buf: Uint8Array, offset: number, opts: UnpickleOptions): { value: unknown; end: number } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = offset;
  const fail = (msg: string): never => {
    throw new FileFormatError(opts.source, `pickle at offset ${pos}: ${msg}`);
  };
  const need = (n: number) => {
    if (pos + n > buf.length) fail(`truncated (needs ${n} more bytes, file ends at ${buf.length})`);
  };
  const u8 = () => {
    need(1);
    return buf[pos++];
  };
  const u16 = () => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = () => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = () => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const bytes = (n: number) => {
    need(n);
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const text = (n: number) => {
    const b = bytes(n);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      return fail(`string of ${n} bytes is not valid UTF-8`);
    }
  };
  const line = () => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated text line');
    const s = new TextDecoder().decode(buf.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = () => (stack.length ? stack.pop() : fail('stack underflow'));
  const popMark = (): unknown[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('MARK expected on the stack');
    const items = stack.splice(i);
    items.shift();
    return items;
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const g = opts.globals.get(`${module}.${name}`);
    if (!g)
      return fail(
        `global '${module}.${name}' is not allowed (a state_dict needs only tensors, OrderedDict and torch storage types)`,
      );
    return g;
  };
  const call = (fn: unknown, args: unknown) => {
    if (!(fn && typeof fn === 'object' && 'module' in fn) || !(args instanceof PyTuple))
      return fail('REDUCE needs an allowed global and an argument tuple');
    const g = fn as PyGlobal;
    if (!g.call) return fail(`'${g.module}.${g.name}' cannot be called`);
    try {
      return g.call(args.items);
    } catch (e) {
      if (e instanceof FileFormatError) throw e;
      return fail(`${g.module}.${g.name}: ${(e as Error).message}`);
    }
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) fail('SETITEM(S) on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) (target as PyDict).set(items[i], items[i + 1]);
  };
  const memoKey = (v: number) => {
    if (!memo.has(v)) fail(`memo key ${v} was never stored`);
    return memo.get(v);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80:
        u8();
        break; // PROTO
      case 0x95:
        bytes(8);
        break; // FRAME (protocol 4): framing only
      case 0x2e:
        if (stack.length !== 1) fail(`STOP with ${stack.length} values on the stack`);
        return { value: stack[0], end: pos }; // '.'
      case 0x7d:
        stack.push(new Map());
        break; // '}' EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // ']' EMPTY_LIST
      case 0x29:
        stack.push(new PyTuple([]));
        break; // ')' EMPTY_TUPLE
      case 0x28:
        stack.push(MARK);
        break; // '(' MARK
      case 0x74:
        stack.push(new PyTuple(popMark()));
        break; // 't' TUPLE
      case 0x85:
        stack.push(new PyTuple([pop()]));
        break; // TUPLE1
      case 0x86: {
        const b = pop(),
          a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop(),
          b = pop(),
          a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      } // TUPLE3
      case 0x71:
        memo.set(u8(), stack[stack.length - 1]);
        break; // 'q' BINPUT
      case 0x72:
        memo.set(u32(), stack[stack.length - 1]);
        break; // 'r' LONG_BINPUT
      case 0x94:
        memo.set(memo.size, stack[stack.length - 1]);
        break; // MEMOIZE
      case 0x68:
        stack.push(memoKey(u8()));
        break; // 'h' BINGET
      case 0x6a:
        stack.push(memoKey(u32()));
        break; // 'j' LONG_BINGET
      case 0x58:
        stack.push(text(u32()));
        break; // 'X' BINUNICODE
      case 0x8c:
        stack.push(text(u8()));
        break; // SHORT_BINUNICODE
      case 0x55:
        stack.push(text(u8()));
        break; // 'U' SHORT_BINSTRING (Python 2)
      case 0x54:
        stack.push(text(u32()));
        break; // 'T' BINSTRING (Python 2)
      case 0x4b:
        stack.push(u8());
        break; // 'K' BININT1
      case 0x4d:
        stack.push(u16());
        break; // 'M' BININT2
      case 0x4a:
        stack.push(i32());
        break; // 'J' BININT
      case 0x8a: {
        // LONG1: little-endian two's complement
        const n = u8(),
          b = bytes(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: {
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      } // 'G' BINFLOAT (big-endian)
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4e:
        stack.push(null);
        break; // 'N' NONE
      case 0x63: {
        const module = line(),
          name = line();
        stack.push(resolveGlobal(module, name));
        break;
      } // 'c' GLOBAL
      case 0x93: {
        const name = pop(),
          module = pop();
        if (typeof name !== 'string' || typeof module !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x51: {
        // 'Q' BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('persistent id found, but this file format has none');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x52: {
        const args = pop(),
          fn = pop();
        stack.push(call(fn, args));
        break;
      } // 'R' REDUCE
      case 0x81: {
        const args = pop(),
          cls = pop();
        stack.push(call(cls, args));
        break;
      } // NEWOBJ
      case 0x62: {
        pop();
        break;
      } // 'b' BUILD: object state (OrderedDict's _metadata) is not needed
      case 0x73: {
        const v = pop(),
          k = pop();
        setItems(stack[stack.length - 1], [k, v]);
        break;
      } // 's' SETITEM
      case 0x75: {
        const items = popMark();
        setItems(stack[stack.length - 1], items);
        break;
      } // 'u' SETITEMS
      case 0x61: {
        const v = pop();
        const l = stack[stack.length - 1];
        if (!Array.isArray(l)) fail('APPEND to a non-list');
        (l as unknown[]).push(v);
        break;
      } // 'a'
      case 0x65: {
        const items = popMark();
        const l = stack[stack.length - 1];
        if (!Array.isArray(l)) fail('APPENDS to a non-list');
        for (const v of items) (l as unknown[]).push(v);
        break;
      } // 'e'
      default:
        pos = at;
        fail(
          `opcode 0x${op.toString(16).padStart(2, '0')}${op >= 0x20 && op < 0x7f ? ` ('${String.fromCharCode(op)}')` : ''} is not allowed in a state_dict pickle`,
        );
    }
  }
}
