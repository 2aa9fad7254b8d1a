// The wasm kernels' instance: the threaded module over a shared memory when the runtime has
// SharedArrayBuffer and an entry registered a way to start workers (Node's worker_threads, or a
// cross-origin-isolated page's Workers), else the one-thread module. Workers instantiate the same
// module on the same memory, set their own stack and sleep in worker_main until a kernel has chunks.
import { KERNELS_THREADS_WASM_BASE64, KERNELS_WASM_BASE64, THREADS_INITIAL_PAGES } from './binary';

/** The part of the WebAssembly JS API used here (the project's type libraries leave it out). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: ArrayBufferLike };
}

export interface WasmExports {
  memory: { buffer: ArrayBufferLike };
  arena_reset(): void;
  arena_alloc(count: number): number;
  arena_failed(): number;
  heap_start(): number;
  arena_set_base(base: number): void;
  conv2d(x: number, w: number, bias: number, residual: number, relu: number, y: number, g: number): void;
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
  pool_forward(x: number, y: number, g: number, mode: number): void;
  pool_backward(dy: number, x: number, dx: number, g: number, mode: number): void;
  /** The threaded module only. */
  set_threads?(n: number): void;
  worker_chunks_run?(): number;
}

/** Starts worker `tid` on `module` and `memory`: it runs WORKER_SOURCE's steps. */
export type WorkerStarter = (module: object, memory: object, tid: number) => void;

/** What a worker does with { module, memory, tid } (the entries wrap it for their kind of worker). */
export const WORKER_SOURCE = `function runWasmWorker({ module, memory, tid }) {
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
  k.__stack_pointer.value = k.worker_stack_top(tid);
  try {
    k.worker_main(tid); // never returns: sleeps until a kernel has chunks
  } catch (e) {
    // a trap (a bug): the caller waiting for this worker's chunk traps too instead of hanging
    Atomics.store(new Int32Array(memory.buffer), k.worker_failed_flag() / 4, 1);
    throw e;
  }
}`;

/** The most threads the module runs (kernels.c's MAX_THREADS). */
export const MAX_WASM_THREADS = 16;

let threadSupport: { start: WorkerStarter; defaultThreads: number } | null = null;

/** Called by an entry that can start workers; `defaultThreads` is used until threads are set. */
export function enableWasmThreads(start: WorkerStarter, defaultThreads: number): void {
  threadSupport = { start, defaultThreads: Math.max(1, Math.min(MAX_WASM_THREADS, defaultThreads)) };
}

const decode = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));

/** The one-thread module's bytes (committed; `npm run build:wasm` rebuilds them from wasm/kernels.c). */
export function wasmBytes(): Uint8Array {
  return decode(KERNELS_WASM_BASE64);
}

interface State {
  exports: WasmExports;
  /** null: the one-thread module (why in `reason`). */
  threaded: { module: object; memory: object; started: number } | null;
  reason: string;
  threads: number;
}
let state: State | null = null;

function api(): WebAssemblyApi {
  const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (!wasm) throw new Error('wasm backend: this runtime has no WebAssembly');
  return wasm;
}

function compile(b64: string): object {
  try {
    return new (api().Module)(decode(b64));
  } catch (e) {
    throw new Error(
      `wasm backend: the module does not compile here (${(e as Error).message}); it needs WebAssembly SIMD`,
    );
  }
}

/** The threaded module on a fresh shared memory, or why not. */
function instantiateThreaded(): State | string {
  if (!threadSupport) return 'no way to start workers in this runtime';
  if (typeof SharedArrayBuffer === 'undefined') return 'no SharedArrayBuffer (a page must be cross-origin isolated)';
  let memory: { buffer: ArrayBufferLike };
  try {
    memory = new (api().Memory)({ initial: THREADS_INITIAL_PAGES, maximum: 65536, shared: true });
  } catch (e) {
    return `no shared WebAssembly memory (${(e as Error).message})`;
  }
  const module = compile(KERNELS_THREADS_WASM_BASE64);
  const exports = new (api().Instance)(module, { env: { memory } }).exports as WasmExports;
  return { exports: { ...exports, memory }, threaded: { module, memory, started: 1 }, reason: '', threads: 1 };
}

/** Instantiates the kernels once (synchronously: in a browser, call it from a worker). */
export function wasmKernels(): WasmExports {
  if (state) return state.exports;
  const threaded = instantiateThreaded();
  if (typeof threaded === 'string') {
    const exports = new (api().Instance)(compile(KERNELS_WASM_BASE64), {}).exports as WasmExports;
    state = { exports, threaded: null, reason: threaded, threads: 1 };
  } else {
    state = threaded;
    setWasmThreads(threadSupport?.defaultThreads ?? 1);
  }
  return state.exports;
}

/** Why the kernels cannot run here (no WebAssembly, or no SIMD), or null when they can. */
export function wasmUnavailableReason(): string | null {
  try {
    wasmKernels();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Threads the kernels use (1 with the one-thread module). */
export function wasmThreads(): number {
  wasmKernels();
  return state?.threads ?? 1;
}

/** Whether kernels can run on several threads here, and if not, why. */
export function wasmThreadStatus(): { available: boolean; reason: string; max: number } {
  wasmKernels();
  return state?.threaded
    ? { available: true, reason: '', max: MAX_WASM_THREADS }
    : { available: false, reason: state?.reason ?? '', max: 1 };
}

/** Sets the threads kernels use, starting workers as needed (they stay, asleep, when fewer are used later). */
export function setWasmThreads(n: number): void {
  wasmKernels();
  const s = state as State;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS)
    throw new Error(`wasm backend: threads must be an integer from 1 to ${MAX_WASM_THREADS}, got ${n}`);
  if (!s.threaded) {
    if (n > 1) throw new Error(`wasm backend: ${n} threads asked for, but it runs on one thread here: ${s.reason}`);
    return;
  }
  for (; s.threaded.started < n; s.threaded.started++)
    threadSupport?.start(s.threaded.module, s.threaded.memory, s.threaded.started);
  s.exports.set_threads?.(n);
  s.threads = n;
}
