// DataLoader (Node): the batches of Batches (batches.ts), built ahead on a worker thread that
// holds the dataset in shared memory.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Batches, type BatchOptions } from './batches';
import type { ImageDataset } from './dataset';

export type { Batch } from './batches';

/** Loader options: batching plus how many batches a worker thread builds ahead. */
export interface LoaderOptions extends BatchOptions {
  /** Build batches on a worker thread, this many ahead (0: build them inline). */
  prefetch: number;
}

/** Batches built ahead on a worker thread (the same batches as Batches builds inline). */
export class DataLoader extends Batches {
  private worker: Worker | null = null;
  private pending = new Map<number, (b: { x: Float32Array; y: Int32Array }) => void>();
  private nextId = 0;

  constructor(
    dataset: ImageDataset,
    readonly loaderOpts: LoaderOptions,
  ) {
    super(dataset, loaderOpts);
  }

  protected override buildAhead(): number {
    return this.loaderOpts.prefetch;
  }

  protected override build(indices: Int32Array, seed: number): Promise<{ x: Float32Array; y: Int32Array }> {
    if (this.loaderOpts.prefetch === 0) return super.build(indices, seed);
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
  override async close(): Promise<void> {
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
