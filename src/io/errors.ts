// The one error type of the file-format parsers: it names the file (and the part of it) first,
// then what was found and what was expected. The fuzz tests hold every parser to throwing only this.

/** A file that cannot be read as the format it claims: "<source>: <what is wrong>". */
export class FileFormatError extends Error {
  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`${source}: ${problem}`);
    this.name = 'FileFormatError';
  }
}

/** A `fail` function for one file: throws a FileFormatError naming it. */
export function failFor(source: string): (problem: string) => never {
  return (problem: string) => {
    throw new FileFormatError(source, problem);
  };
}

/** A short, non-recursive description of a parsed value for error messages (never "[object Object]"). */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v instanceof Map) return `a dict of ${v.size}`;
  const name = (v as { constructor?: { name?: string } }).constructor?.name;
  return name ? `a ${name}` : 'an object';
}
