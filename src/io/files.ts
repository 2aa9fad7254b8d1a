// File I/O that names the file in every error: reads, and safe writes. A write goes to a temp file
// beside the target that is renamed over it, so a crash, an error or a signal never leaves a
// partial file or destroys what the user had; the target keeps its mode and owner; temp files of
// killed processes are swept; a character device (e.g. /dev/null) is written in place, as asked.
import {
  chmodSync,
  chownSync,
  closeSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { constants } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';

/** A problem with a file path the user gave (exit code 2 in the CLI). */
export class FileError extends Error {}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const inFlight = new Set<string>();

/** Removes every temp file in flight and exits as the signal would have (128 + its number). */
function onSignal(signal: NodeJS.Signals): void {
  for (const tmp of inFlight) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
  process.exit(128 + (constants.signals[signal] ?? 1));
}

function track(tmp: string): void {
  if (inFlight.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  inFlight.add(tmp);
}

function untrack(tmp: string): void {
  inFlight.delete(tmp);
  if (inFlight.size === 0) for (const s of SIGNALS) process.removeListener(s, onSignal);
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `.<name>.<pid>.<ms>.tmp` files beside `path` left by processes that no longer run (e.g. after SIGKILL). */
export function sweepStaleTempFiles(path: string): void {
  const dir = dirname(path),
    prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)\.\d+\.tmp$/.exec(name.slice(prefix.length)) : null;
    if (m && !isAlive(Number(m[1]))) {
      try {
        unlinkSync(join(dir, name));
      } catch {
        /* raced with another sweeper */
      }
    }
  }
}

function statOrNull(path: string, follow: boolean): Stats | null {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch {
    return null;
  }
}

function kindOf(st: Stats): string {
  return st.isDirectory()
    ? 'a directory'
    : st.isSocket()
      ? 'a socket'
      : st.isFIFO()
        ? 'a FIFO'
        : st.isCharacterDevice()
          ? 'a character device'
          : st.isBlockDevice()
            ? 'a block device'
            : 'not a regular file';
}

/**
 * Writes `data` to `path` safely: through a symlink to its target; in place for a character device
 * such as /dev/null (as the user asked); otherwise atomically (temp file + rename) keeping an
 * existing file's mode and owner. Refuses directories, FIFOs, sockets and block devices.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const link = statOrNull(path, false);
  const target = link?.isSymbolicLink() ? resolveLink(path) : path;
  const existing = statOrNull(target, true);
  if (existing && !existing.isFile()) {
    if (existing.isCharacterDevice()) {
      writeInPlace(target, data);
      return;
    }
    throw new FileError(`${path}: cannot write file: it is ${kindOf(existing)}`);
  }
  sweepStaleTempFiles(target);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  track(tmp);
  try {
    writeFileSync(tmp, data, { mode: existing ? existing.mode & 0o7777 : 0o666 });
    if (existing) {
      chmodSync(tmp, existing.mode & 0o7777); // the umask applied at creation; the user's mode wins
      if (process.getuid?.() === 0) chownSync(tmp, existing.uid, existing.gid);
    }
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw new FileError(`${path}: cannot write file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    untrack(tmp);
  }
}

function resolveLink(path: string): string {
  try {
    return realpathSync(path);
  } catch (e) {
    // a dangling link: write where it points
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileError(`${path}: cannot write file: it is a symbolic link that cannot be resolved (${code})`);
  }
}

function writeInPlace(path: string, data: Uint8Array | string): void {
  let fd = -1;
  try {
    fd = openSync(path, 'w');
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
  } catch (e) {
    throw new FileError(`${path}: cannot write file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Reads a whole file, or throws "<path>: cannot read file (ENOENT)". */
export function readFileChecked(path: string): Buffer {
  const st = statOrNull(path, true);
  if (st && !st.isFile()) throw new FileError(`${path}: cannot read file: it is ${kindOf(st)}`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new FileError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * Refuses an output path whose extension does not match the format written (e.g. safetensors into
 * out.npy); a character device such as /dev/null is the user's explicit choice and passes.
 */
export function checkOutputExtension(path: string, ext: string, what: string): void {
  if (extname(path).toLowerCase() !== ext && !statOrNull(path, true)?.isCharacterDevice()) {
    throw new FileError(
      `${path}: the output is ${what}; name it with the ${ext} extension (got '${extname(path) || 'none'}')`,
    );
  }
}

/** Refuses writing `output` over `input` (the same file, by path or through links). */
export function checkNotSameFile(input: string, output: string): void {
  const a = statOrNull(input, true),
    b = statOrNull(output, true);
  if (a && b && a.isFile() && a.dev === b.dev && a.ino === b.ino) {
    throw new FileError(
      `${output}: is the input file ${input}; writing it would destroy the input — choose another output path`,
    );
  }
}
