// Shape and selection ops: flatten, argmax, top-k.
import { formatShape } from '../shape';
import type { Tensor } from '../tensor';

/** Flattens dimensions from startDim on (default 1, as torch.flatten(x, 1)); differentiable. */
export function flatten(x: Tensor, startDim = 1): Tensor {
  if (startDim < 0 || startDim >= Math.max(x.ndim, 1))
    throw new Error(`flatten: startDim ${startDim} is out of range for shape ${formatShape(x.shape)}`);
  return x.reshape([...x.shape.slice(0, startDim), -1]);
}

/** Index of the largest value in each row of a [N, C] tensor. */
export function argmax(x: Tensor): number[] {
  return topk(x, 1).indices.map((r) => r[0]);
}

/** The k largest values of each row of a [N, C] tensor and their indices, largest first (ties: lower index first). */
export function topk(x: Tensor, k: number): { values: number[][]; indices: number[][] } {
  if (x.ndim !== 2) throw new Error(`topk: expected a 2-D [N, C] tensor, got shape ${formatShape(x.shape)}`);
  const [rows, cols] = x.shape;
  if (!Number.isInteger(k) || k < 1 || k > cols)
    throw new Error(`topk: k must be an integer in [1, ${cols}], got ${k}`);
  const data = x.toArray();
  const values: number[][] = [],
    indices: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const order = Array.from({ length: cols }, (_, j) => j).sort(
      (a, b) => data[i * cols + b] - data[i * cols + a] || a - b,
    );
    indices.push(order.slice(0, k));
    values.push(order.slice(0, k).map((j) => data[i * cols + j]));
  }
  return { values, indices };
}
