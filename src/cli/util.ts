// CLI plumbing shared by every subcommand: argument parsing helpers, output, and errors that
// become a one-line message with exit code 2 (no stack trace unless RESNEXT_DEBUG is set).
import { Option, type Command } from 'commander';
import { readEnvironment } from '../environment';
import { checkNotSameFile, checkOutputExtension } from '../io/files';

/** An error caused by the user's input: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Parses "2,3,224,224" into positive integers. */
export function parseShape(flag: string, text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || !parts.every((p) => /^[0-9]+$/.test(p) && Number(p) > 0 && Number(p) <= MAX_INT_ARGUMENT)) {
    throw new UsageError(`${flag} '${text}' is not a comma-separated list of positive integers (e.g. 2,3,224,224)`);
  }
  return parts.map(Number);
}

/** The largest integer an argument may be (2^31 − 1: every size, count and seed fits a 32-bit int). */
export const MAX_INT_ARGUMENT = 2 ** 31 - 1;

/** Parses an integer argument in [min, MAX_INT_ARGUMENT]. */
function parseIntArgument(name: string, text: string, min: number, kind: string): number {
  const v = Number(text);
  if (!/^[0-9]+$/.test(text.trim()) || v < min || v > MAX_INT_ARGUMENT) {
    throw new UsageError(
      `${name} must be a ${kind} integer up to ${MAX_INT_ARGUMENT.toLocaleString('en-US')}, got '${text}'`,
    );
  }
  return v;
}

/** Parses a positive integer argument. */
export function parsePositiveInt(name: string, text: string): number {
  return parseIntArgument(name, text, 1, 'positive');
}

/** Parses a non-negative integer argument. */
export function parseNonNegativeInt(name: string, text: string): number {
  return parseIntArgument(name, text, 0, 'non-negative');
}

/** Checks a value against allowed choices. */
export function parseChoice<T extends string>(name: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text))
    throw new UsageError(`${name} must be one of ${choices.join(', ')}, got '${text}'`);
  return text as T;
}

/**
 * Checks an output path before any work: the extension matches the format written, and it is none
 * of the input files (which the write would destroy).
 */
export function checkOutput(path: string, ext: string, what: string, inputs: (string | undefined)[] = []): void {
  for (const input of inputs) if (input) checkNotSameFile(input, path);
  checkOutputExtension(path, ext, what);
}

/**
 * Adds `--batch-size <n>` (the one spelling every command uses) with `--batch` as a hidden alias
 * (the older spelling of bench and export); read the value with batchSizeOption().
 */
export function addBatchSizeOption(cmd: Command, description: string, defaultValue: string): Command {
  return cmd.option('--batch-size <n>', description, defaultValue).addOption(new Option('--batch <n>').hideHelp());
}

/** The --batch-size value, or the --batch alias when that was given; `explicit` when typed on the command line. */
export function batchSizeOption(
  o: { batchSize: string; batch?: string },
  cmd?: Command,
): { flag: string; text: string; explicit: boolean } {
  if (o.batch !== undefined) return { flag: '--batch', text: o.batch, explicit: true };
  return { flag: '--batch-size', text: o.batchSize, explicit: cmd?.getOptionValueSource('batchSize') === 'cli' };
}

/** Writes JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Runs a command action, turning any thrown error into a one-line message and exit code 2. */
export function guarded<A extends unknown[]>(
  command: string,
  action: (...args: A) => void | Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (e) {
      const err = e as Error;
      // library errors already name their op; avoid "resnext summary: summary: …"
      const message = err.message.startsWith(`${command}: `) ? err.message.slice(command.length + 2) : err.message;
      process.stderr.write(`resnext ${command}: ${message}\n`);
      if (readEnvironment().debug) process.stderr.write(`${err.stack}\n`);
      process.exitCode = 2;
    }
  };
}

/** A finite number ≥ 0 (or > 0 with `positive`), e.g. --lr 0.1 or --weight-decay 5e-4. */
export function parseNumber(name: string, text: string, positive = false): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0 || (positive && v === 0)) {
    throw new UsageError(
      `${name} must be a ${positive ? 'positive' : 'non-negative'} number such as 0.1 or 5e-4, got '${text}'`,
    );
  }
  return v;
}

/**
 * Ctrl-C asks long work to stop after its current step: `stopRequested()` turns true and a line
 * with `hint` is printed. The listener removes itself, so a second Ctrl-C gets the default action
 * and ends the process at once. Call `release()` when the work is over.
 */
export function stopOnCtrlC(hint: string): { stopRequested: () => boolean; release: () => void } {
  let stop = false;
  const onSigint = () => {
    stop = true;
    process.stderr.write(`\nstopping after this step and saving a checkpoint (${hint})…\n`);
    process.removeListener('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  return { stopRequested: () => stop, release: () => process.removeListener('SIGINT', onSigint) };
}
