// Atomic file writes: write a temp file beside the target, then rename over it, so a crash or
// error never leaves a partial file and never destroys what the user had.
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Writes `data` to `path` atomically (temp file + rename); removes the temp file on failure. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw new Error(`${path}: cannot write file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
