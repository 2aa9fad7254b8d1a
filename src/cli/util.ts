// CLI plumbing shared by every subcommand: argument parsing helpers, output, and errors that
// become a one-line message with exit code 2 (no stack trace unless RESNEXT_DEBUG is set).

/** An error caused by the user's input: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Parses "2,3,224,224" into positive integers. */
export function parseShape(flag: string, text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || !parts.every((p) => /^[0-9]+$/.test(p) && Number(p) > 0)) {
    throw new UsageError(`${flag} '${text}' is not a comma-separated list of positive integers (e.g. 2,3,224,224)`);
  }
  return parts.map(Number);
}

/** Parses a positive integer argument. */
export function parsePositiveInt(name: string, text: string): number {
  if (!/^[0-9]+$/.test(text.trim()) || Number(text) < 1) throw new UsageError(`${name} must be a positive integer, got '${text}'`);
  return Number(text);
}

/** Parses a non-negative integer argument. */
export function parseNonNegativeInt(name: string, text: string): number {
  if (!/^[0-9]+$/.test(text.trim())) throw new UsageError(`${name} must be a non-negative integer, got '${text}'`);
  return Number(text);
}

/** Checks a value against allowed choices. */
export function parseChoice<T extends string>(name: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(`${name} must be one of ${choices.join(', ')}, got '${text}'`);
  return text as T;
}

/** Writes JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A plain text table: left-aligned text, right-aligned numbers. */
export function textTable(header: string[], rows: (string | number)[][], rightAligned: boolean[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const fmt = (r: string[]) => r.map((v, c) => (rightAligned[c] ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmt)].join('\n');
}

/** Runs a command action, turning any thrown error into a one-line message and exit code 2. */
export function guarded<A extends unknown[]>(command: string, action: (...args: A) => void | Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (e) {
      const err = e as Error;
      // library errors already name their op; avoid "resnext summary: summary: …"
      const message = err.message.startsWith(`${command}: `) ? err.message.slice(command.length + 2) : err.message;
      process.stderr.write(`resnext ${command}: ${message}\n`);
      if (process.env.RESNEXT_DEBUG) process.stderr.write(`${err.stack}\n`);
      process.exitCode = 2;
    }
  };
}
