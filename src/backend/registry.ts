// Which backends exist and which one new tensors use by default.
import type { Backend } from './contract';
import { metaBackend } from './meta';
import { referenceBackend } from './reference';

const backends = new Map<string, Backend>([
  ['reference', referenceBackend as Backend],
  ['meta', metaBackend as Backend],
]);
let defaultBackend: Backend = referenceBackend as Backend;

/** Makes a backend selectable by name (the native backend registers itself here). */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** The backend called `name`, or a clear error listing the available ones. */
export function getBackend(name: string): Backend {
  const b = backends.get(name);
  if (!b) throw new Error(`unknown backend '${name}'; available: ${[...backends.keys()].join(', ')}`);
  return b;
}

/** Names of all registered backends. */
export function listBackends(): string[] {
  return [...backends.keys()];
}

/** The backend that new tensors and parameters are created on. */
export function getDefaultBackend(): Backend {
  return defaultBackend;
}

/** Sets the default backend by name or value. */
export function setDefaultBackend(backend: string | Backend): void {
  defaultBackend = typeof backend === 'string' ? getBackend(backend) : backend;
}
