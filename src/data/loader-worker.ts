// The DataLoader's background thread: builds batches (decode + augment) while the model trains.
import { parentPort, workerData } from 'node:worker_threads';
import { assembleBatch, type BatchTransform } from './transforms';

/** A batch request from the main thread. */
export interface BatchRequest {
  id: number;
  indices: Int32Array;
  transform: BatchTransform;
  seed: number;
}

const { images, labels, shape } = workerData as {
  images: Uint8Array;
  labels: Int32Array;
  shape: [number, number, number];
};
parentPort!.on('message', (req: BatchRequest) => {
  const { x, y } = assembleBatch(images, labels, shape, req.indices, req.transform, req.seed);
  parentPort!.postMessage({ id: req.id, x, y }, [x.buffer as ArrayBuffer, y.buffer as ArrayBuffer]);
});
