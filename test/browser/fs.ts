// node:fs for the browser suite: the repository files the suites read, handed over before the
// bundle runs (globalThis.__FILES__: path → bytes); anything else is absent.
const files = (globalThis as { __FILES__?: Map<string, Uint8Array> }).__FILES__ ?? new Map<string, Uint8Array>();

export function existsSync(path: string): boolean {
  return files.has(path);
}

export function readFileSync(path: string, encoding?: string): Uint8Array | string {
  const bytes = files.get(path);
  if (!bytes) throw new Error(`ENOENT: ${path} was not handed to the browser suite`);
  return encoding ? new TextDecoder().decode(bytes) : bytes;
}
