// DataLoader: a seeded shuffle per epoch, batching with a last-batch policy, and background
// prefetch on a worker thread. Batch b of epoch e depends only on (seed, e, b), so a resumed run
// sees exactly the batches an uninterrupted one would.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { tensor } from '../tensor/create';
import { Generator } from '../tensor/random';
import type { Tensor } from '../tensor/tensor';
import type { ImageDataset } from './dataset';
import { assembleBatch, batchSeed, type BatchTransform } from './transforms';

/** Loader options. */
export interface LoaderOptions {
  batchSize: number;
  shuffle: boolean;
  seed: number;
  /** Drop a last batch smaller than batchSize (training) or keep it (evaluation). */
  dropLast: boolean;
  transform: BatchTransform;
  /** Build batches on a worker thread, this many ahead (0: build them inline). */
  prefetch: number;
}

/** One batch. */
export interface Batch {
  index: number;
  x: Tensor;
  y: Int32Array;
}

/** Iterates a dataset in batches. */
export class DataLoader {
  private worker: Worker | null = null;
  private pending = new Map<number, (b: { x: Float32Array; y: Int32Array }) => void>();
  private nextId = 0;

  constructor(
    readonly dataset: ImageDataset,
    readonly opts: LoaderOptions,
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
      total = this.numBatches();
    const indices = (k: number) => order.subarray(k * b, Math.min((k + 1) * b, order.length));
    const build = (k: number) => this.build(indices(k), batchSeed(this.opts.seed, epoch, k));
    const ahead: Promise<{ x: Float32Array; y: Int32Array }>[] = [];
    for (let k = start; k < Math.min(total, start + 1 + this.opts.prefetch); k++) ahead.push(build(k));
    for (let k = start; k < total; k++) {
      const next = k + 1 + this.opts.prefetch;
      if (next < total) ahead.push(build(next));
      const { x, y } = await ahead.shift()!;
      const [c, h, w] = this.dataset.shape;
      yield { index: k, x: tensor(x, [y.length, c, h, w]), y };
    }
  }

  private build(indices: Int32Array, seed: number): Promise<{ x: Float32Array; y: Int32Array }> {
    const d = this.dataset;
    if (this.opts.prefetch === 0)
      return Promise.resolve(assembleBatch(d.images, d.labels, d.shape, indices, this.opts.transform, seed));
    const worker = this.startWorker(),
      id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.ref(); // keep the process alive while a batch is on its way
      worker.postMessage({ id, indices: indices.slice(), transform: this.opts.transform, seed });
    });
  }

  private startWorker(): Worker {
    if (this.worker) return this.worker;
    // the dataset is copied once into shared memory, then every batch is built next to it
    const share = <T extends Uint8Array | Int32Array>(a: T, Ctor: new (b: SharedArrayBuffer) => T): T => {
      const s = new Ctor(new SharedArrayBuffer(a.byteLength));
      s.set(a as never);
      return s;
    };
    const d = this.dataset;
    this.worker = new Worker(join(__dirname, 'loader-worker.js'), {
      workerData: { images: share(d.images, Uint8Array), labels: share(d.labels, Int32Array), shape: d.shape },
    });
    this.worker.on('message', (m: { id: number; x: Float32Array; y: Int32Array }) => {
      const resolve = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker?.unref(); // an idle worker must not keep the process alive
      resolve?.({ x: m.x, y: m.y });
    });
    this.worker.on('error', (e) => {
      throw new Error(`DataLoader worker failed: ${e.message}`);
    });
    return this.worker;
  }

  /** Stops the worker thread. */
  async close(): Promise<void> {
    if (!this.worker) return;
    // late replies for batches prefetched but never consumed must not unref the worker again,
    // and waiting for the exit of an idle (unref'd) worker must keep the process alive
    this.worker.removeAllListeners('message');
    this.pending.clear();
    this.worker.ref();
    await this.worker.terminate();
    this.worker = null;
  }
}
