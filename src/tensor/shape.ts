// Shape helpers shared by every op: element counts, formatting, validation.

/** Number of elements of a shape (1 for a scalar []). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** "[2, 3, 224, 224]", as PyTorch and torchinfo print shapes. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Whether two shapes are the same dimensions (without formatting them). */
export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws unless every dimension is a non-negative integer. */
export function assertValidShape(op: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new Error(`${op}: invalid shape ${formatShape(shape)}: dimensions must be non-negative integers`);
  }
}

/** Normalises an int-or-pair argument (kernel size, stride, padding) to a pair. */
export function pair(op: string, name: string, v: number | readonly [number, number]): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || !p.every(Number.isInteger))
    throw new Error(`${op}: ${name} must be an integer or a pair of integers, got ${JSON.stringify(v)}`);
  return p;
}
