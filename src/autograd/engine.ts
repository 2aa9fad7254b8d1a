// The define-by-run tape: each op result remembers a GradFn (its inputs and a backward rule);
// backward() walks the recorded graph in reverse topological order and accumulates gradients.
// Generic over the value type so this layer does not import Tensor.

/** A value that can take part in differentiation (Tensor implements it). */
export interface Differentiable<G> {
  readonly requiresGrad: boolean;
  /** The rule that produced this value; null for leaves (parameters, inputs). */
  readonly gradFn: GradFn<G> | null;
  /** Adds a gradient into a leaf's `.grad`. */
  accumulateGrad(grad: G): void;
}

/** One recorded operation: its inputs and the rule mapping d(output) to d(inputs). */
export interface GradFn<G> {
  /** Op name, for error messages. */
  readonly op: string;
  readonly inputs: readonly Differentiable<G>[];
  /** Gradients for each input (null where an input needs none). */
  backward(gradOutput: G): (G | null)[];
}

let gradDepth = 0;

/** Whether ops currently record gradients. */
export function isGradEnabled(): boolean {
  return gradDepth === 0;
}

/** Runs fn without recording gradients (like torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  gradDepth++;
  try {
    return fn();
  } finally {
    gradDepth--;
  }
}

/** How backward combines and frees gradients (Tensor supplies them). */
export interface GradientOps<G> {
  /** The sum of two gradients of one value (a new gradient). */
  add(a: G, b: G): G;
  /** The memory a gradient lives in (views of one buffer share it). */
  memoryOf?(g: G): unknown;
  /** Gives a gradient's memory back; called once nothing in the pass can read it again. */
  release?(g: G): void;
}

/**
 * Back-propagates `seed` from `root` through the recorded graph into every leaf that requires grad.
 * Each gradient of a non-leaf is released as soon as its rule has run, unless its memory is still
 * held by a gradient on its way to another value (a rule may pass its input through) — as PyTorch
 * frees them, so the pass holds the gradients of its frontier, not of the whole graph.
 */
export function runBackward<G>(root: Differentiable<G>, seed: G, ops: GradientOps<G>): void {
  if (!root.requiresGrad)
    throw new Error('backward: the tensor does not require grad (no parameter or input with requiresGrad led to it)');
  // Reverse topological order by iterative DFS over grad functions.
  const order: Differentiable<G>[] = [];
  const seen = new Set<Differentiable<G>>();
  const stack: [Differentiable<G>, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    const inputs = node.gradFn ? node.gradFn.inputs : [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i];
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  const pending = new Map<Differentiable<G>, G>([[root, seed]]);
  /** Memory handed to leaves (their .grad may now be it): never released. */
  const toLeaves = new Set<unknown>();
  const memory = ops.memoryOf ?? ((g: G) => g);
  noGrad(() => {
    for (let k = order.length - 1; k >= 0; k--) {
      const node = order[k];
      const grad = pending.get(node);
      if (grad === undefined) continue;
      pending.delete(node);
      if (!node.gradFn) {
        node.accumulateGrad(grad);
        toLeaves.add(memory(grad));
        continue;
      }
      const grads = node.gradFn.backward(grad);
      // gradients this node consumed: its own, and any pair summed into a new one below
      const consumed: G[] = [grad];
      node.gradFn.inputs.forEach((input, j) => {
        const g = grads[j];
        if (g === null || g === undefined || !input.requiresGrad) return;
        const prev = pending.get(input);
        if (prev === undefined) pending.set(input, g);
        else {
          pending.set(input, ops.add(prev, g));
          consumed.push(prev, g);
        }
      });
      if (ops.release) releaseUnheld(consumed, pending, toLeaves, memory, ops.release);
    }
  });
}

/** Releases each consumed gradient whose memory no pending gradient and no leaf's .grad shares. */
function releaseUnheld<G>(
  consumed: G[],
  pending: Map<Differentiable<G>, G>,
  toLeaves: ReadonlySet<unknown>,
  memory: (g: G) => unknown,
  release: (g: G) => void,
): void {
  const held = new Set<unknown>(toLeaves);
  for (const g of pending.values()) held.add(memory(g));
  for (const g of consumed) {
    const m = memory(g);
    if (held.has(m)) continue;
    held.add(m); // once: a gradient summed with itself is released one time
    release(g);
  }
}
