// The WebAssembly backend, first stage (issue "A WebAssembly SIMD backend" stays open): the
// convolutions (forward, backward-data, backward-weight) and matmul run in wasm/kernels.c compiled
// to wasm32 + SIMD128 — a packed SIMD GEMM under im2col/col2im — on one thread; every other kernel
// is the reference backend's TypeScript, by design of this stage. Storages are the reference's
// typed arrays: each wasm call copies its operands into the module's memory and its result out.
// Runs wherever WebAssembly does (Node without the addon, browsers' workers); float64 stays on
// the reference kernels.
import type { Backend, ConvGeometry } from '../contract';
import { referenceBackend, type FArray } from '../reference';
import { KERNELS_WASM_BASE64 } from './binary';

/** The part of the WebAssembly JS API used here (the project's type libraries leave it out). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

interface WasmExports {
  memory: { buffer: ArrayBuffer };
  arena_reset(): void;
  arena_alloc(count: number): number;
  arena_failed(): number;
  conv2d(x: number, w: number, bias: number, y: number, g: number): void;
  conv2d_backward_data(dy: number, w: number, dx: number, g: number): void;
  conv2d_backward_weight(dy: number, x: number, dw: number, g: number): void;
  matmul(a: number, b: number, c: number, m: number, k: number, n: number, transA: number, transB: number): void;
  madd_probe(iters: number): number;
}

/** The compiled module's bytes (committed; `npm run build:wasm` rebuilds them from wasm/kernels.c). */
export function wasmBytes(): Uint8Array {
  return Uint8Array.from(atob(KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0));
}

let instance: WasmExports | null = null;

/** Instantiates the module once (synchronously: in a browser, call it from a worker). */
export function wasmKernels(): WasmExports {
  if (instance) return instance;
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (!api) throw new Error('wasm backend: this runtime has no WebAssembly');
  let module: object;
  try {
    module = new api.Module(wasmBytes());
  } catch (e) {
    throw new Error(
      `wasm backend: the module does not compile here (${(e as Error).message}); it needs WebAssembly SIMD`,
    );
  }
  instance = new api.Instance(module, {}).exports as WasmExports;
  return instance;
}

/**
 * Runs one kernel in a fresh arena: `put` copies operands in, `out` allocates results, `run` calls
 * the kernel; any buffer the 4 GiB of wasm memory cannot hold is an error naming the op.
 */
function inArena<T>(
  op: string,
  body: (put: (a: Float32Array) => number, out: (n: number) => number, run: (call: () => void) => void) => T,
): T {
  const k = wasmKernels();
  k.arena_reset();
  const tooBig = (n: number, what: string) =>
    new Error(
      `wasm backend: ${op} needs ${what} of ${n} floats (${((4 * n) / 2 ** 30).toFixed(2)} GiB), ` +
        'more than the 4 GiB of wasm memory hold; use a smaller batch or input',
    );
  const alloc = (n: number) => {
    const p = k.arena_alloc(n);
    if (p === 0 && n > 0) throw tooBig(n, 'an operand or result');
    return p;
  };
  const put = (a: Float32Array) => {
    const p = alloc(a.length);
    new Float32Array(k.memory.buffer, p, a.length).set(a);
    return p;
  };
  const run = (call: () => void) => {
    call();
    const missing = k.arena_failed();
    if (missing > 0) throw tooBig(missing, 'a work buffer (im2col or packing)');
  };
  return body(put, alloc, run);
}

/** A copy of `n` floats at `ptr` (views are made after the call: the memory may have grown). */
function take(ptr: number, n: number): Float32Array {
  return new Float32Array(wasmKernels().memory.buffer, ptr, n).slice();
}

function geometry(g: ConvGeometry): Float32Array {
  const ints = Int32Array.from(
    [g.n, g.c, g.h, g.w, g.o, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW].concat([
      g.padH,
      g.padW,
      g.dilH,
      g.dilW,
      g.groups,
    ]),
  );
  return new Float32Array(ints.buffer);
}

const f32 = (...xs: (FArray | null)[]) => xs.every((x) => x === null || x instanceof Float32Array);
const ref = referenceBackend.kernels;

/** The wasm backend (stage one: convolutions and matmul in WebAssembly SIMD, the rest TypeScript). */
export const wasmBackend: Backend<FArray> = {
  ...referenceBackend,
  name: 'wasm',
  kernels: {
    ...ref,
    conv2d: (x, w, b, g) => {
      if (!f32(x, w, b)) return ref.conv2d(x, w, b, g);
      return inArena('conv2d', (put, out, run) => {
        const px = put(x as Float32Array),
          pw = put(w as Float32Array),
          pb = b ? put(b as Float32Array) : 0,
          pg = put(geometry(g)),
          size = g.n * g.o * g.oh * g.ow,
          py = out(size);
        run(() => wasmKernels().conv2d(px, pw, pb, py, pg));
        return take(py, size);
      });
    },
    conv2dFused: (x, w, b, r, relu, g) => {
      const y = wasmBackend.kernels.conv2d(x, w, b, g);
      const sum = r ? ref.addInPlace(y, r) : y;
      return relu ? ref.reluInPlace(sum) : sum;
    },
    conv2dBackwardData: (dy, w, g) => {
      if (!f32(dy, w)) return ref.conv2dBackwardData(dy, w, g);
      return inArena('conv2dBackwardData', (put, out, run) => {
        const pdy = put(dy as Float32Array),
          pw = put(w as Float32Array),
          pg = put(geometry(g)),
          size = g.n * g.c * g.h * g.w,
          pdx = out(size);
        run(() => wasmKernels().conv2d_backward_data(pdy, pw, pdx, pg));
        return take(pdx, size);
      });
    },
    conv2dBackwardWeight: (dy, x, g) => {
      if (!f32(dy, x)) return ref.conv2dBackwardWeight(dy, x, g);
      return inArena('conv2dBackwardWeight', (put, out, run) => {
        const pdy = put(dy as Float32Array),
          px = put(x as Float32Array),
          pg = put(geometry(g)),
          size = (g.o * g.c * g.kh * g.kw) / g.groups,
          pdw = out(size);
        run(() => wasmKernels().conv2d_backward_weight(pdy, px, pdw, pg));
        return take(pdw, size);
      });
    },
    matmul: (a, b, m, k, n, transA, transB) => {
      if (!f32(a, b)) return ref.matmul(a, b, m, k, n, transA, transB);
      return inArena('matmul', (put, out, run) => {
        const pa = put(a as Float32Array),
          pb = put(b as Float32Array),
          pc = out(m * n);
        run(() => wasmKernels().matmul(pa, pb, pc, m, k, n, transA ? 1 : 0, transB ? 1 : 0));
        return take(pc, m * n);
      });
    },
  },
};
