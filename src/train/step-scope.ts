// stepScope: runs one training or evaluation step with buffer reuse on backends that offer it.
// Every kernel output created inside the step goes back to the backend's pool when the step
// ends, except what the model and optimizer still hold (parameters, gradients, buffers, state).
// Tensors created inside the step must not be used after it: return plain numbers from `step`.
import type { Module } from '../nn/module';
import type { Optimizer } from './optim';

/** Runs `step` in a buffer scope of the model's backend (a plain call where there is none). */
export function stepScope<T>(model: Module, optimizer: Optimizer | null, step: () => T): T {
  const params = model.parameters();
  const scope = params[0]?.backend.bufferScope;
  if (!scope) return step();
  scope.open();
  const keep = new Set<unknown>();
  try {
    return step();
  } finally {
    for (const p of params) {
      keep.add(p.storage);
      if (p.grad) keep.add(p.grad.storage);
    }
    for (const b of model.buffers()) keep.add(b.storage);
    if (optimizer) for (const t of optimizer.stateTensors().values()) keep.add(t.storage);
    scope.close(keep);
  }
}
