// Classification metrics: top-k hits, per-class accuracy and the confusion matrix.
import type { Tensor } from '../tensor/tensor';

/** True when every logit of row `i` is a finite number (a row with NaN or ±Inf predicts nothing). */
function finiteRow(v: ArrayLike<number>, i: number, cols: number): boolean {
  for (let j = 0; j < cols; j++) if (!Number.isFinite(v[i * cols + j])) return false;
  return true;
}

/** How many rows have their target among the top k logits (ties broken by index; a non-finite row is a miss). */
export function topkHits(logits: Tensor, targets: ArrayLike<number>, k: number): number {
  const [rows, cols] = logits.shape,
    v = logits.toArray();
  let hits = 0;
  for (let i = 0; i < rows; i++) {
    if (!finiteRow(v, i, cols)) continue;
    const t = targets[i],
      score = v[i * cols + t];
    let better = 0;
    for (let j = 0; j < cols; j++) if (v[i * cols + j] > score || (v[i * cols + j] === score && j < t)) better++;
    if (better < k) hits++;
  }
  return hits;
}

/** A confusion matrix accumulated batch by batch: rows = true class, columns = predicted. */
export class ConfusionMatrix {
  readonly counts: number[][];
  /** Per true class: samples whose logits were not all finite (no prediction; counted as misses). */
  readonly invalid: number[];
  constructor(readonly numClasses: number) {
    this.counts = Array.from({ length: numClasses }, () => new Array(numClasses).fill(0));
    this.invalid = new Array(numClasses).fill(0);
  }
  /** Adds a batch of logits against targets. */
  add(logits: Tensor, targets: ArrayLike<number>): void {
    const [rows, cols] = logits.shape,
      v = logits.toArray();
    for (let i = 0; i < rows; i++) {
      if (!finiteRow(v, i, cols)) {
        this.invalid[targets[i]]++;
        continue;
      }
      let best = 0;
      for (let j = 1; j < cols; j++) if (v[i * cols + j] > v[i * cols + best]) best = j;
      this.counts[targets[i]][best]++;
    }
  }
  /** Accuracy per true class (NaN for a class with no samples). */
  perClassAccuracy(): number[] {
    return this.counts.map((row, c) => row[c] / (row.reduce((a, b) => a + b, 0) + this.invalid[c]));
  }
}
