// src/backend/node for the browser suite: the browser entry's backends (wasm with threads where the
// page is cross-origin isolated, reference, meta), as a browser user of the package gets them.
import '../../src/backend/browser';
import type { Backend } from '../../src/backend/contract';
import { getBackend, listBackends } from '../../src/backend/slot';

export function loadableBackends(): Backend[] {
  return listBackends().map(getBackend);
}
