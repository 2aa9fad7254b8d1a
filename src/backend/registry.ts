// Which backends exist and which one new tensors use by default: native when the addon is
// built, reference otherwise; RESNEXT_BACKEND=reference|native overrides.
import type { Backend } from './contract';
import { metaBackend } from './meta';
import { nativeBackend, nativeStatus } from './native';
import { referenceBackend } from './reference';

const backends = new Map<string, Backend>([
  ['reference', referenceBackend as Backend],
  ['meta', metaBackend as Backend],
]);
if (nativeBackend) backends.set('native', nativeBackend as Backend);
let defaultBackend: Backend = (nativeBackend ?? referenceBackend) as Backend;

/** Makes a backend selectable by name (the native backend registers itself here). */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** The backend called `name`, or a clear error listing the available ones. */
export function getBackend(name: string): Backend {
  const b = backends.get(name);
  if (b) return b;
  if (name === 'native') throw new Error(`the native backend is unavailable: ${nativeStatus().reason}`);
  throw new Error(`unknown backend '${name}'; available: ${[...backends.keys()].join(', ')}`);
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

/** Applies RESNEXT_BACKEND (called by the CLI and on first import). */
export function applyBackendEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  if (env.RESNEXT_BACKEND) setDefaultBackend(env.RESNEXT_BACKEND);
}
