// The browser entry's backends: wasm, reference and meta; the default is wasm where its module
// compiles (a worker; browsers refuse to compile it synchronously on the page's main thread),
// else reference. Importing this file fills the default-backend slot (slot.ts).
import { metaBackend } from './meta';
import { referenceBackend } from './reference';
import { registerBackend, setDefaultBackendChooser } from './slot';
import { wasmBackend, wasmUnavailableReason } from './wasm';
import './wasm/workers-browser'; // wasm kernels on several threads where the page is cross-origin isolated

registerBackend('wasm', wasmBackend);
registerBackend('reference', referenceBackend);
registerBackend('meta', metaBackend);
setDefaultBackendChooser(() => (wasmUnavailableReason() === null ? wasmBackend : referenceBackend));
