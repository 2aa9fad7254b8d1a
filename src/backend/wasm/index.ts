// The WebAssembly backend: the convolutions (forward with its bias/residual/ReLU epilogue — a
// direct kernel for few channels per group, else a packed SIMD GEMM under im2col — backward-data,
// backward-weight), matmul, batch norm, ReLU and pooling run in wasm/kernels.c compiled to wasm32 +
// SIMD128, on several threads where shared memory allows (module.ts); the element-wise kernels,
// loss and optimizer steps are the reference backend's TypeScript. Storages are the reference's
// typed arrays: each wasm call copies its operands into the module's memory (storages held constant
// stay there, constants.ts) and its result out, into arrays pooled inside step scopes.
// Runs wherever WebAssembly SIMD does (Node without the addon, browsers); float64 stays on the
// reference kernels.
import { BufferPool, bufferScopeOf } from '../buffer-pool';
import type { Backend, ConvGeometry, Kernels, PoolGeometry } from '../contract';
import { referenceBackend, type FArray } from '../reference';
import { withFloat32Source } from '../reference/storage';
import { ResidentConstants } from './constants';
import { setWasmThreads, type WasmExports, wasmKernels, wasmThreads } from './module';

export {
  setWasmThreads,
  wasmBytes,
  wasmKernels,
  wasmThreadStatus,
  wasmThreads,
  wasmUnavailableReason,
} from './module';

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
    const resident = a instanceof Float32Array ? residentConstants().address(a) : 0;
    if (resident) return resident;
    const p = alloc(a.length);
    new Float32Array(k.memory.buffer, p, a.length).set(a);
    return p;
  });
  const outs = outSizes.map(alloc);
  try {
    call(k, ins, outs);
  } catch (e) {
    // a trap is a bug of the module (on this thread or, reported by it, a worker's)
    throw new Error(`wasm backend: ${op} failed in WebAssembly (${(e as Error).message})`);
  }
  const missing = k.arena_failed();
  if (missing > 0) throw tooBig(missing, 'a work buffer (im2col or packing)');
  // views are made after the call: the memory may have grown during it. Copied out by set(), not
  // slice(): V8's slice of a shared (threaded) memory's view is ~80x slower; into pooled arrays
  // inside a step scope (a fresh one costs a page fault per 4 KiB)
  return outs.map((p, i) => {
    const out = wasmBufferPool.take(outSizes[i]);
    out.set(new Float32Array(k.memory.buffer, p, outSizes[i]));
    return out;
  });
}

let resident: ResidentConstants | null = null;
/** The storages held constant (holdConstant) in the module's memory. */
function residentConstants(): ResidentConstants {
  resident ??= new ResidentConstants(wasmKernels());
  return resident;
}

/** Outputs of wasm kernels, reused inside step scopes (bufferScope), as the native backend's. */
export const wasmBufferPool = new BufferPool();

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

/** relu?(conv(x, w) + bias + residual) in one wasm call (the add and ReLU are the GEMM's epilogue). */
function convForward(x: FArray, w: FArray, b: FArray | null, r: FArray | null, relu: boolean, g: ConvGeometry) {
  return wasmCall('conv2d', [x, w, b, r, geometry(g)], [g.n * g.o * g.oh * g.ow], (k, [px, pw, pb, pr, pg], [py]) =>
    k.conv2d(px, pw, pb, pr, relu ? 1 : 0, py, pg),
  )[0];
}

/** A pooling geometry as the 12 ints kernels.c reads. */
function poolGeometry(g: PoolGeometry): Float32Array {
  const ints = Int32Array.from([g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.strideH, g.strideW, g.padH, g.padW]);
  return new Float32Array(ints.buffer);
}

/** kernels.c's pooling modes. */
const POOL = { max: 0, avg: 1, avgExcludePad: 2, adaptive: 3 } as const;
type PoolMode = (typeof POOL)[keyof typeof POOL];
const avgMode = (countIncludePad: boolean): PoolMode => (countIncludePad ? POOL.avg : POOL.avgExcludePad);

function poolForward(x: FArray, g: PoolGeometry, mode: PoolMode): FArray {
  return wasmCall('pool2d', [x, poolGeometry(g)], [g.n * g.c * g.oh * g.ow], (k, [px, pg], [py]) =>
    k.pool_forward(px, py, pg, mode),
  )[0];
}

function poolBackward(dy: FArray, x: FArray | null, g: PoolGeometry, mode: PoolMode): FArray {
  return wasmCall('pool2dBackward', [dy, x, poolGeometry(g)], [g.n * g.c * g.h * g.w], (k, [pdy, px, pg], [pdx]) =>
    k.pool_backward(pdy, px, pdx, pg, mode),
  )[0];
}

const f32 = (...xs: (FArray | null)[]) => xs.every((x) => x === null || x instanceof Float32Array);
const ref = referenceBackend.kernels;

/** The reference kernels, their float32 outputs taken (zero-filled) from the wasm pool inside step scopes. */
const refPooled = Object.fromEntries(
  Object.entries(ref).map(([name, kernel]) => [
    name,
    (...args: unknown[]) =>
      withFloat32Source(
        (size) => wasmBufferPool.take(size, true),
        () => (kernel as (...a: unknown[]) => unknown)(...args),
      ),
  ]),
) as unknown as Kernels<FArray>;

/** The wasm backend (convolutions, matmul, batch norm, ReLU and pooling in WebAssembly; the rest TypeScript). */
export const wasmBackend: Backend<FArray> = {
  ...referenceBackend,
  name: 'wasm',
  threads: { get: wasmThreads, set: setWasmThreads },
  bufferScope: bufferScopeOf(wasmBufferPool),
  // folded inference weights stay in wasm memory (from 4 KiB: small ones copy as fast as they look up)
  holdConstant: (s) => {
    if (s instanceof Float32Array && s.length >= 1024) residentConstants().hold(s);
  },
  kernels: {
    ...refPooled,
    conv2d: (x, w, b, g) => (!f32(x, w, b) ? ref.conv2d(x, w, b, g) : convForward(x, w, b, null, false, g)),
    // bf16 and int8 run as the reference defines them (the wasm kernels are float32)
    conv2dFused: (x, w, b, r, relu, g, precision) =>
      precision || !f32(x, w, b, r)
        ? ref.conv2dFused(x, w, b, r, relu, g, precision)
        : convForward(x, w, b, r, relu, g),
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
    maxPool2d: (x, g) => (!f32(x) ? ref.maxPool2d(x, g) : poolForward(x, g, POOL.max)),
    maxPool2dBackward: (dy, x, g) => (!f32(dy, x) ? ref.maxPool2dBackward(dy, x, g) : poolBackward(dy, x, g, POOL.max)),
    avgPool2d: (x, g, pad) => (!f32(x) ? ref.avgPool2d(x, g, pad) : poolForward(x, g, avgMode(pad))),
    avgPool2dBackward: (dy, g, pad) =>
      !f32(dy) ? ref.avgPool2dBackward(dy, g, pad) : poolBackward(dy, null, g, avgMode(pad)),
    adaptiveAvgPool2d: (x, g) => (!f32(x) ? ref.adaptiveAvgPool2d(x, g) : poolForward(x, g, POOL.adaptive)),
    adaptiveAvgPool2dBackward: (dy, g) =>
      !f32(dy) ? ref.adaptiveAvgPool2dBackward(dy, g) : poolBackward(dy, null, g, POOL.adaptive),
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
