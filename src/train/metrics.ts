// Classification metrics: top-k hits, per-class accuracy and the confusion matrix.
import type { Tensor } from '../tensor/tensor';

/** How many rows have their target among the top k logits (ties broken by index). */
export function topkHits(logits: Tensor, targets: ArrayLike<number>, k: number): number {
  const [rows, cols] = logits.shape, v = logits.toArray();
  let hits = 0;
  for (let i = 0; i < rows; i++) {
    const t = targets[i], score = v[i * cols + t];
    let better = 0;
    for (let j = 0; j < cols; j++) if (v[i * cols + j] > score || (v[i * cols + j] === score && j < t)) better++;
    if (better < k) hits++;
  }
  return hits;
}

/** A confusion matrix accumulated batch by batch: rows = true class, columns = predicted. */
export class ConfusionMatrix {
  readonly counts: number[][];
  constructor(readonly numClasses: number) {
    this.counts = Array.from({ length: numClasses }, () => new Array(numClasses).fill(0));
  }
  /** Adds a batch of logits against targets. */
  add(logits: Tensor, targets: ArrayLike<number>): void {
    const [rows, cols] = logits.shape, v = logits.toArray();
    for (let i = 0; i < rows; i++) {
      let best = 0;
      for (let j = 1; j < cols; j++) if (v[i * cols + j] > v[i * cols + best]) best = j;
      this.counts[targets[i]][best]++;
    }
  }
  /** Accuracy per true class (NaN for a class with no samples). */
  perClassAccuracy(): number[] {
    return this.counts.map((row, c) => row[c] / row.reduce((a, b) => a + b, 0));
  }
}
