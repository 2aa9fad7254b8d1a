// Plain-text tables with aligned columns (paper, models, eval).

/** A plain text table: left-aligned text, right-aligned numbers. */
export function textTable(header: string[], rows: (string | number)[][], rightAligned: boolean[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const fmt = (r: string[]) =>
    r
      .map((v, c) => (rightAligned[c] ? v.padStart(widths[c]) : v.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmt)].join('\n');
}
