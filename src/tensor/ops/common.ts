// Shared op plumbing: pick the backend and dtype of an op's inputs, and record results on the tape.
import { isGradEnabled } from '../../autograd/engine';
import type { Backend, DType } from '../../backend/contract';
import { formatShape } from '../shape';
import { Tensor } from '../tensor';
import { emitOp } from '../trace';

/**
 * The backend an op runs on: the inputs' common backend, or meta if any input is meta
 * (a shapes-only run may mix meta activations with real parameters).
 */
export function backendOf(op: string, inputs: readonly (Tensor | null | undefined)[]): Backend {
  const present = inputs.filter((t): t is Tensor => !!t);
  const meta = present.find((t) => !t.backend.hasData);
  if (meta) return meta.backend;
  const first = present[0].backend;
  const other = present.find((t) => t.backend !== first);
  if (other)
    throw new Error(
      `${op}: inputs are on different backends (${first.name} and ${other.backend.name}); move them with .to(backend)`,
    );
  return first;
}

/** The common floating dtype of an op's inputs. */
export function floatDtypeOf(op: string, inputs: readonly (Tensor | null | undefined)[]): DType {
  const present = inputs.filter((t): t is Tensor => !!t);
  const dtype = present[0].dtype;
  for (const t of present) {
    if (t.dtype === 'int64')
      throw new Error(`${op}: expected floating-point tensors, got int64 of shape ${formatShape(t.shape)}`);
    if (t.dtype !== dtype) throw new Error(`${op}: mixed dtypes ${dtype} and ${t.dtype}; convert one input first`);
  }
  return dtype;
}

/** A gradient rule: gradients for each recorded input given d(output); `needs[i]` says whether input i wants one. */
export type BackwardRule = (gradOutput: Tensor, needs: boolean[]) => (Tensor | null)[];

/**
 * Wraps a kernel result as a Tensor, records its gradient rule when any input requires grad,
 * and reports the op (with its resolved attributes) to a running trace.
 */
export function record(
  op: string,
  inputs: readonly Tensor[],
  storage: unknown,
  shape: readonly number[],
  dtype: DType,
  backend: Backend,
  rule: BackwardRule,
  attrs: Readonly<Record<string, unknown>> = {},
): Tensor {
  const tracked = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const needs = inputs.map((t) => t.requiresGrad);
  const out = tracked
    ? new Tensor(storage, shape, dtype, backend, { op, inputs, backward: (g) => rule(g, needs) })
    : new Tensor(storage, shape, dtype, backend);
  emitOp(op, inputs, out, attrs);
  return out;
}

/** Throws unless x has exactly `rank` dimensions. */
export function expectRank(op: string, name: string, x: Tensor, rank: number, layout: string): void {
  if (x.ndim !== rank) throw new Error(`${op}: ${name} must be ${rank}-D ${layout}, got shape ${formatShape(x.shape)}`);
}
