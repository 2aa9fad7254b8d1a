// The default-backend slot: the backends selectable by name and the one new tensors use when none
// is named. It holds no backend of its own: an entry point fills it (src/index.ts for Node,
// src/browser.ts for browsers), so the core never imports a concrete backend or the native addon.
import type { Backend } from './contract';

/** A backend, or how to make it on first use (the native backend loads its addon then). */
export type BackendSource = Backend | (() => Backend);

const sources = new Map<string, BackendSource>();
const resolved = new Map<string, Backend>();
let chooseDefault: (() => Backend) | null = null;
let chosen: Backend | null = null;

/** Makes a backend selectable by name; a function is called once, on first use. */
export function registerBackend(name: string, source: BackendSource): void {
  sources.set(name, source);
  resolved.delete(name);
}

/** The backend called `name`; loading errors (e.g. an addon that failed to load) are thrown. */
export function getBackend(name: string): Backend {
  const done = resolved.get(name);
  if (done) return done;
  const source = sources.get(name);
  if (!source) throw new Error(`unknown backend '${name}'; available: ${listBackends().join(', ')}`);
  const backend = typeof source === 'function' ? source() : source;
  resolved.set(name, backend);
  return backend;
}

/** Names of all registered backends (a lazily loaded one may still fail in getBackend). */
export function listBackends(): string[] {
  return [...sources.keys()];
}

/** Sets how the default is chosen on first use (an entry point does this); forgets an earlier choice. */
export function setDefaultBackendChooser(choose: () => Backend): void {
  chooseDefault = choose;
  chosen = null;
}

/** The backend that new tensors and parameters are created on. */
export function getDefaultBackend(): Backend {
  if (chosen) return chosen;
  if (!chooseDefault) {
    throw new Error(
      "no default backend: import 'resnext-ts' (Node or browser entry), or call setDefaultBackend(backend) first",
    );
  }
  chosen = chooseDefault();
  return chosen;
}

/** Sets the default backend by name or value. */
export function setDefaultBackend(backend: string | Backend): void {
  chosen = typeof backend === 'string' ? getBackend(backend) : backend;
}
