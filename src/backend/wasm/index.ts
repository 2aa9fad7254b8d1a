// The WebAssembly backend, first stage (issue "A WebAssembly SIMD backend" stays open): the
// convolutions (forward, backward-data, backward-weight) and matmul — a packed SIMD GEMM under
// im2col/col2im — and batch norm and ReLU run in wasm/kernels.c compiled to wasm32 + SIMD128, on
// one thread; the other kernels (adds, pooling, loss, optimizers) are the reference backend's
// TypeScript, by design of this stage. Storages are the reference's typed arrays: each wasm call
// copies its operands into the module's memory and its result out. Runs wherever WebAssembly SIMD
// does (Node without the addon, browsers); float64 stays on the reference kernels.
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
  batch_norm_stats(x: number, mean: number, variance: number, n: number, c: number, hw: number): void;
  batch_norm_forward(
    x: number,
    mean: number,
    variance: number,
    gamma: number,
    beta: number,
    eps: number,
    y: number,
    n: number,
    c: number,
    hw: number,
  ): void;
  batch_norm_backward(
    dy: number,
    x: number,
    mean: number,
    variance: number,
    gamma: number,
    eps: number,
    batchStats: number,
    dx: number,
    dgamma: number,
    dbeta: number,
    n: number,
    c: number,
    hw: number,
  ): void;
  relu(x: number, y: number, len: number): void;
  relu_backward(dy: number, y: number, dx: number, len: number): void;
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
 * Runs one kernel in a fresh arena: copies `inputs` in (null stays a null pointer), allocates
 * outputs of `outSizes` floats, calls `call` with their addresses and copies the outputs out; a
 * buffer the 4 GiB of wasm memory cannot hold is an error naming the op.
 */
function wasmCall(
  op: string,
  inputs: readonly (FArray | Float32Array | null)[],
  outSizes: readonly number[],
  call: (k: WasmExports, ins: number[], outs: number[]) => void,
): Float32Array[] {
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
  const ins = inputs.map((a) => {
    if (a === null) return 0;
    const p = alloc(a.length);
    new Float32Array(k.memory.buffer, p, a.length).set(a);
    return p;
  });
  const outs = outSizes.map(alloc);
  call(k, ins, outs);
  const missing = k.arena_failed();
  if (missing > 0) throw tooBig(missing, 'a work buffer (im2col or packing)');
  // views are made after the call: the memory may have grown during it
  return outs.map((p, i) => new Float32Array(k.memory.buffer, p, outSizes[i]).slice());
}

/** A convolution's geometry as the 16 ints kernels.c reads, in a Float32Array's bytes (copied in as is). */
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

/** The wasm backend (stage one: convolutions, matmul, batch norm and ReLU in WebAssembly; the rest TypeScript). */
export const wasmBackend: Backend<FArray> = {
  ...referenceBackend,
  name: 'wasm',
  kernels: {
    ...ref,
    conv2d: (x, w, b, g) =>
      !f32(x, w, b)
        ? ref.conv2d(x, w, b, g)
        : wasmCall('conv2d', [x, w, b, geometry(g)], [g.n * g.o * g.oh * g.ow], (k, [px, pw, pb, pg], [py]) =>
            k.conv2d(px, pw, pb, py, pg),
          )[0],
    conv2dFused: (x, w, b, r, relu, g) => {
      const y = wasmBackend.kernels.conv2d(x, w, b, g);
      const sum = r ? ref.addInPlace(y, r) : y;
      return relu ? wasmBackend.kernels.reluInPlace(sum) : sum;
    },
    conv2dBackwardData: (dy, w, g) =>
      !f32(dy, w)
        ? ref.conv2dBackwardData(dy, w, g)
        : wasmCall('conv2dBackwardData', [dy, w, geometry(g)], [g.n * g.c * g.h * g.w], (k, [pdy, pw, pg], [pdx]) =>
            k.conv2d_backward_data(pdy, pw, pdx, pg),
          )[0],
    conv2dBackwardWeight: (dy, x, g) =>
      !f32(dy, x)
        ? ref.conv2dBackwardWeight(dy, x, g)
        : wasmCall(
            'conv2dBackwardWeight',
            [dy, x, geometry(g)],
            [(g.o * g.c * g.kh * g.kw) / g.groups],
            (k, [pdy, px, pg], [pdw]) => k.conv2d_backward_weight(pdy, px, pdw, pg),
          )[0],
    matmul: (a, b, m, kd, n, transA, transB) =>
      !f32(a, b)
        ? ref.matmul(a, b, m, kd, n, transA, transB)
        : wasmCall('matmul', [a, b], [m * n], (k, [pa, pb], [pc]) =>
            k.matmul(pa, pb, pc, m, kd, n, transA ? 1 : 0, transB ? 1 : 0),
          )[0],
    batchNormStats: (x, g) => {
      if (!f32(x)) return ref.batchNormStats(x, g);
      const [mean, variance] = wasmCall('batchNormStats', [x], [g.c, g.c], (k, [px], [pm, pv]) =>
        k.batch_norm_stats(px, pm, pv, g.n, g.c, g.hw),
      );
      return { mean, variance };
    },
    batchNormForward: (x, mean, variance, gamma, beta, eps, g) =>
      !f32(x, mean, variance, gamma, beta)
        ? ref.batchNormForward(x, mean, variance, gamma, beta, eps, g)
        : wasmCall('batchNormForward', [x, mean, variance, gamma, beta], [x.length], (k, [px, pm, pv, pg, pb], [py]) =>
            k.batch_norm_forward(px, pm, pv, pg, pb, eps, py, g.n, g.c, g.hw),
          )[0],
    batchNormBackward: (dy, x, mean, variance, gamma, eps, batchStats, g) => {
      if (!f32(dy, x, mean, variance, gamma))
        return ref.batchNormBackward(dy, x, mean, variance, gamma, eps, batchStats, g);
      const [dx, dgamma, dbeta] = wasmCall(
        'batchNormBackward',
        [dy, x, mean, variance, gamma],
        [x.length, g.c, g.c],
        (k, [pdy, px, pm, pv, pg], [pdx, pdg, pdb]) =>
          k.batch_norm_backward(pdy, px, pm, pv, pg, eps, batchStats ? 1 : 0, pdx, pdg, pdb, g.n, g.c, g.hw),
      );
      return { dx, dgamma, dbeta };
    },
    relu: (x) =>
      !f32(x) ? ref.relu(x) : wasmCall('relu', [x], [x.length], (k, [px], [py]) => k.relu(px, py, x.length))[0],
    reluInPlace: (x) => {
      if (!f32(x)) return ref.reluInPlace(x);
      x.set(wasmBackend.kernels.relu(x));
      return x;
    },
    reluBackward: (dy, y) =>
      !f32(dy, y)
        ? ref.reluBackward(dy, y)
        : wasmCall('reluBackward', [dy, y], [dy.length], (k, [pdy, py], [pdx]) =>
            k.relu_backward(pdy, py, pdx, dy.length),
          )[0],
  },
};
