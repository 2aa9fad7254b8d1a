// Reference-backend storage: plain Float32Array (float32) or Float64Array (float64, int64).
import type { DType } from '../contract';

/** The reference backend's storage type. */
export type FArray = Float32Array | Float64Array;

/** A zero-filled array of the same element type as `like`. */
export function allocLike(like: FArray, size: number): FArray {
  return like instanceof Float32Array ? new Float32Array(size) : new Float64Array(size);
}

/** A zero-filled array for a dtype. */
export function allocFor(dtype: DType, size: number): FArray {
  return dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
}
