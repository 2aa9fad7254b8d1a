// Browsers' wasm workers: dedicated Workers from a Blob URL running WORKER_SOURCE, enabled only where
// shared memory is allowed (a cross-origin-isolated page, or a worker of one). Imported by the
// browser entry.
import { enableWasmThreads, WORKER_SOURCE } from './module';

interface BrowserGlobals {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  Worker?: new (url: string) => { postMessage(message: unknown): void };
  Blob?: new (parts: string[], options: { type: string }) => object;
  URL?: { createObjectURL(blob: object): string };
}

const g = globalThis as BrowserGlobals;
if (g.crossOriginIsolated && g.Worker && g.Blob && g.URL) {
  const { Worker, Blob, URL } = g;
  let url: string | null = null;
  enableWasmThreads((module, memory, tid) => {
    url ??= URL.createObjectURL(
      new Blob([`${WORKER_SOURCE}\nonmessage = (e) => runWasmWorker(e.data);`], { type: 'text/javascript' }),
    );
    new Worker(url).postMessage({ module, memory, tid });
  }, g.navigator?.hardwareConcurrency ?? 1);
}
