// File I/O that names the file in every error: reads, and atomic writes (a temp file beside the
// target renamed over it, so a crash or error never leaves a partial file or destroys what the user had).
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
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

/** Reads a whole file, or throws "<path>: cannot read file (ENOENT)". */
export function readFileChecked(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
