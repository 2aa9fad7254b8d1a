// Batches of an in-memory dataset, wherever JavaScript runs: a seeded shuffle per epoch, batching
// with a last-batch policy, augmentation by BatchTransform. Batch b of epoch e depends only on
// (seed, e, b), so a resumed run sees exactly the batches an uninterrupted one would. Node's
// DataLoader (loader.ts) builds the same batches ahead on a worker thread.
import { tensor } from '../tensor/create';
import { Generator } from '../tensor/random';
import type { Tensor } from '../tensor/tensor';
import type { ImageDataset } from './dataset';
import { assembleBatch, batchSeed, type BatchTransform } from './transforms';

/** How a dataset is cut into batches. */
export interface BatchOptions {
  batchSize: number;
  shuffle: boolean;
  seed: number;
  /** Drop a last batch smaller than batchSize (training) or keep it (evaluation). */
  dropLast: boolean;
  transform: BatchTransform;
}

/** One batch. */
export interface Batch {
  index: number;
  x: Tensor;
  y: Int32Array;
}

/** Iterates a dataset in batches, building each one when it is asked for. */
export class Batches {
  constructor(
    readonly dataset: ImageDataset,
    readonly opts: BatchOptions,
  ) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
      throw new Error(`DataLoader: batch size must be a positive integer, got ${opts.batchSize}`);
    if (this.numBatches() === 0) {
      throw new Error(
        `${dataset.name}: its ${dataset.labels.length} images make no full batch of ${opts.batchSize}; ` +
          `use a smaller --batch-size (at most ${dataset.labels.length}) or more images`,
      );
    }
  }

  /** Batches per epoch. */
  numBatches(): number {
    const n = this.dataset.labels.length,
      b = this.opts.batchSize;
    return this.opts.dropLast ? Math.floor(n / b) : Math.ceil(n / b);
  }

  /** The sample order of an epoch (a seeded Fisher–Yates shuffle, or identity). */
  order(epoch: number): Int32Array {
    const n = this.dataset.labels.length,
      idx = Int32Array.from({ length: n }, (_, i) => i);
    if (!this.opts.shuffle) return idx;
    const g = new Generator(batchSeed(this.opts.seed, epoch, -1));
    for (let i = n - 1; i > 0; i--) {
      const j = g.randint(i + 1);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    return idx;
  }

  /** The batches of one epoch, from batch `start` on. */
  async *epoch(epoch: number, start = 0): AsyncGenerator<Batch> {
    const order = this.order(epoch),
      b = this.opts.batchSize,
      total = this.numBatches(),
      ahead = this.buildAhead();
    const indices = (k: number) => order.subarray(k * b, Math.min((k + 1) * b, order.length));
    const build = (k: number) => this.build(indices(k), batchSeed(this.opts.seed, epoch, k));
    const queued: Promise<{ x: Float32Array; y: Int32Array }>[] = [];
    for (let k = start; k < Math.min(total, start + 1 + ahead); k++) queued.push(build(k));
    for (let k = start; k < total; k++) {
      const next = k + 1 + ahead;
      if (next < total) queued.push(build(next));
      const { x, y } = await queued.shift()!;
      const [c, h, w] = this.dataset.shape;
      yield { index: k, x: tensor(x, [y.length, c, h, w]), y };
    }
  }

  /** Batches requested before they are needed (0: each is built when asked for). */
  protected buildAhead(): number {
    return 0;
  }

  /** Builds one batch of `indices` with its augmentation seed. */
  protected build(indices: Int32Array, seed: number): Promise<{ x: Float32Array; y: Int32Array }> {
    const d = this.dataset;
    return Promise.resolve(assembleBatch(d.images, d.labels, d.shape, indices, this.opts.transform, seed));
  }

  /** Releases what building batches holds (nothing here). */
  async close(): Promise<void> {}
}
