// Node's wasm workers: worker_threads running WORKER_SOURCE, unreferenced so they never keep the
// process alive. Imported by the Node entry only (browsers get theirs from workers-browser.ts).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { enableWasmThreads, WORKER_SOURCE } from './module';

enableWasmThreads((module, memory, tid) => {
  // import(), not require: an eval'd worker is an ES module where the user's package is one
  const code = `${WORKER_SOURCE}\nimport('node:worker_threads').then(({ workerData }) => runWasmWorker(workerData));`;
  new Worker(code, { eval: true, workerData: { module, memory, tid } }).unref();
}, availableParallelism());
