// Tensor creation: from values, zeros/ones/full, and seeded random draws.
import type { Backend, DType } from '../backend/contract';
import { getDefaultBackend } from '../backend/slot';
import { defaultGenerator, type Generator } from './random';
import { assertValidShape, formatShape, numel } from './shape';
import { Tensor } from './tensor';

/** Where and how a new tensor is made. */
export interface TensorOptions {
  dtype?: DType;
  backend?: Backend;
  requiresGrad?: boolean;
}

function make(values: ArrayLike<number> | null, shape: readonly number[], opts: TensorOptions): Tensor {
  assertValidShape('tensor', shape);
  const dtype = opts.dtype ?? 'float32';
  const backend = opts.backend ?? getDefaultBackend();
  const storage = values === null ? backend.zeros(dtype, numel(shape)) : backend.fromValues(dtype, values);
  const t = new Tensor(storage, shape, dtype, backend);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Flattens nested number arrays, returning values and the inferred shape. */
function flattenNested(data: unknown): { values: number[]; shape: number[] } {
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const values = (data as unknown[]).flat(Infinity as 1) as unknown[];
  if (values.length !== numel(shape) || !values.every((v) => typeof v === 'number')) {
    throw new Error(`tensor: nested array is ragged or holds non-numbers (inferred shape ${formatShape(shape)})`);
  }
  return { values: values as number[], shape };
}

/** A tensor from values (flat with a shape, or nested arrays). */
export function tensor(
  data: ArrayLike<number> | unknown[],
  shape?: readonly number[],
  opts: TensorOptions = {},
): Tensor {
  if (shape === undefined) {
    const flat = Array.isArray(data)
      ? flattenNested(data)
      : { values: Array.from(data as ArrayLike<number>), shape: [(data as ArrayLike<number>).length] };
    return make(flat.values, flat.shape, opts);
  }
  const values = data as ArrayLike<number>;
  if (values.length !== numel(shape))
    throw new Error(
      `tensor: ${values.length} values do not fill shape ${formatShape(shape)} (${numel(shape)} elements)`,
    );
  return make(values, shape, opts);
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return make(null, shape, opts);
}

/** A tensor filled with one value. */
export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  const backend = opts.backend ?? getDefaultBackend();
  return make(backend.hasData ? new Float64Array(numel(shape)).fill(value) : null, shape, opts);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** Options for random tensors. */
export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

function drawn(shape: readonly number[], opts: RandomOptions, draw: (g: Generator) => number): Tensor {
  const backend = opts.backend ?? getDefaultBackend();
  if (!backend.hasData) return make(null, shape, opts);
  const g = opts.generator ?? defaultGenerator;
  const values = new Float64Array(numel(shape));
  for (let i = 0; i < values.length; i++) values[i] = draw(g);
  return make(values, shape, opts);
}

/** Standard-normal samples. */
export function randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  return drawn(shape, opts, (g) => g.normal());
}

/** Uniform samples in [low, high). */
export function uniform(shape: readonly number[], low: number, high: number, opts: RandomOptions = {}): Tensor {
  return drawn(shape, opts, (g) => g.uniform(low, high));
}
