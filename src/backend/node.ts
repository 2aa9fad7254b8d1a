// The Node entry's backends: native (its addon loaded on first use), wasm, reference and meta; the
// default is RESNEXT_BACKEND when set, else native when its addon loads, else wasm when its module
// compiles, else reference.
// Importing this file fills the default-backend slot (slot.ts); it loads no native code.
import { readEnvironment } from '../environment';
import type { Backend } from './contract';
import { metaBackend } from './meta';
import { loadNativeBackend, nativeStatus } from './native';
import { referenceBackend } from './reference';
import { getBackend, listBackends, registerBackend, setDefaultBackendChooser } from './slot';
import { wasmBackend, wasmUnavailableReason } from './wasm';
import './wasm/workers-node'; // wasm kernels on several threads (worker_threads)

registerBackend('native', loadNativeBackend);
registerBackend('wasm', wasmBackend);
registerBackend('reference', referenceBackend);
registerBackend('meta', metaBackend);

/** Why the default backend is what it is, for warnings and `resnext doctor`. */
export function nodeDefaultReason(): {
  name: string;
  why: 'RESNEXT_BACKEND' | 'native' | 'native unavailable';
  detail: string;
} {
  const env = readEnvironment();
  if (env.backend) return { name: env.backend, why: 'RESNEXT_BACKEND', detail: '' };
  const status = nativeStatus();
  if (status.available) return { name: 'native', why: 'native', detail: '' };
  const noWasm = wasmUnavailableReason();
  return noWasm === null
    ? { name: 'wasm', why: 'native unavailable', detail: status.reason }
    : { name: 'reference', why: 'native unavailable', detail: `${status.reason}; ${noWasm}` };
}

/** The Node default, chosen when the first tensor is made (this is when the addon loads). */
function chooseNodeDefault(): Backend {
  const { name, why } = nodeDefaultReason();
  try {
    return getBackend(name);
  } catch (e) {
    throw new Error(
      why === 'RESNEXT_BACKEND' ? `RESNEXT_BACKEND=${name}: ${(e as Error).message}` : (e as Error).message,
    );
  }
}

setDefaultBackendChooser(chooseNodeDefault);

/** The backends that load here (a registered one may be unavailable, e.g. native without its addon). */
export function loadableBackends(): Backend[] {
  return listBackends()
    .filter((n) => n !== 'native' || nativeStatus().available)
    .map(getBackend);
}

export { nativeStatus };
