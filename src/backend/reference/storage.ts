// Reference-backend storage: plain Float32Array (float32) or Float64Array (float64, int64).
import type { DType } from '../contract';

/** The reference backend's storage type. */
export type FArray = Float32Array | Float64Array;

/** Where zero-filled float32 arrays come from: fresh, or a backend's pool while it runs these kernels. */
let float32Source: ((size: number) => Float32Array) | null = null;

/**
 * Runs `run` with float32 outputs taken from `source` (zero-filled arrays): the wasm backend runs
 * the reference kernels it lacks this way, so their outputs come from its step-scope pool.
 */
export function withFloat32Source<T>(source: (size: number) => Float32Array, run: () => T): T {
  const before = float32Source;
  float32Source = source;
  try {
    return run();
  } finally {
    float32Source = before;
  }
}

const float32 = (size: number) => (float32Source ? float32Source(size) : new Float32Array(size));

/** A zero-filled array of the same element type as `like`. */
export function allocLike(like: FArray, size: number): FArray {
  return like instanceof Float32Array ? float32(size) : new Float64Array(size);
}

/** A zero-filled array for a dtype. */
export function allocFor(dtype: DType, size: number): FArray {
  return dtype === 'float32' ? float32(size) : new Float64Array(size);
}
