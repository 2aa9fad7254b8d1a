// The browser suite's entry (runs in a Worker of a cross-origin-isolated page): the kernel
// conformance, gradient checks, PyTorch fixtures and the overfit test, unchanged, on the browser
// entry's backends; each result is posted to the page.
import '../conformance.test';
import '../gradcheck.test';
import '../pytorch-fixtures.test';
import '../overfit.test';
import { wasmThreadStatus, wasmThreads } from '../../src/backend/wasm';
import { runAll } from './node-test';

const post = (message: unknown) => (globalThis as unknown as { postMessage(m: unknown): void }).postMessage(message);
const status = wasmThreadStatus();
post({ kind: 'wasm', threads: wasmThreads(), threadsAvailable: status.available, reason: status.reason });
runAll((r) => post({ kind: 'result', ...r })).then((all) => post({ kind: 'done', count: all.length }));
