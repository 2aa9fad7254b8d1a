// Op tracing: while traceOps(fn) runs, every op reports what it computed (op name, input and
// output tensors, resolved attributes) — how a forward pass becomes an exportable graph.
import type { Tensor } from './tensor';

/** One executed op. */
export interface TracedOp {
  op: string;
  inputs: readonly Tensor[];
  output: Tensor;
  /** Resolved parameters (geometry, eps, running statistics, …). */
  attrs: Readonly<Record<string, unknown>>;
}

let listener: ((op: TracedOp) => void) | null = null;

/** Runs fn, calling onOp for every op it executes (not re-entrant). */
export function traceOps<T>(onOp: (op: TracedOp) => void, fn: () => T): T {
  if (listener) throw new Error('traceOps: a trace is already running');
  listener = onOp;
  try {
    return fn();
  } finally {
    listener = null;
  }
}

/** Whether a trace is running (fused inference paths stand aside so the trace sees every op). */
export function isTracing(): boolean {
  return listener !== null;
}

/** Reports an op to the running trace, if any (called by every op). */
export function emitOp(
  op: string,
  inputs: readonly Tensor[],
  output: Tensor,
  attrs: Readonly<Record<string, unknown>>,
): void {
  if (listener) listener({ op, inputs, output, attrs });
}
