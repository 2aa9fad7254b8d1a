// torchinfo's text layout: a 40-wide name column, 25-wide value columns, '=' rules, tree
// prefixes, right-stripped lines, and its number formats ("--" for zero, thousands commas).
import type { LayerRow } from './collect';

/** Columns a summary can show (torchinfo's col_names). */
export type SummaryColumn =
  | 'input_size'
  | 'output_size'
  | 'num_params'
  | 'params_percent'
  | 'kernel_size'
  | 'mult_adds'
  | 'trainable';

/** All columns, in torchinfo's order. */
export const ALL_COLUMNS: readonly SummaryColumn[] = [
  'input_size',
  'output_size',
  'num_params',
  'params_percent',
  'kernel_size',
  'mult_adds',
  'trainable',
];

/** Column headers, as torchinfo prints them. */
export const HEADER_TITLES: Record<SummaryColumn, string> = {
  input_size: 'Input Shape',
  output_size: 'Output Shape',
  num_params: 'Param #',
  params_percent: 'Param %',
  kernel_size: 'Kernel Shape',
  mult_adds: 'Mult-Adds',
  trainable: 'Trainable',
};

const COL_WIDTH = 25;

/** Integer with thousands separators (Python's f"{n:,}"). */
export function withCommas(n: number): string {
  const s = Math.abs(Math.trunc(n))
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${s}` : s;
}

/** Python's f"{x:,.2f}" (or f"{x:0.2f}" without `commas`), round-half-even on exact ties as Python does. */
export function fixed2(x: number, commas = true): string {
  const scaled = x * 100;
  let cents = Math.round(scaled);
  if (Number.isInteger(scaled * 2) && !Number.isInteger(scaled) && cents % 2 !== 0) cents -= 1;
  const whole = Math.trunc(cents / 100),
    frac = Math.abs(cents % 100)
      .toString()
      .padStart(2, '0');
  return `${cents < 0 && whole === 0 ? '-' : ''}${commas ? withCommas(whole) : String(whole)}.${frac}`;
}

/**
 * torchinfo 1.8.0's format_output_num for the counts: " (G): 7.54" with auto units (T at 1e12, G at
 * 1e9, else M — 1.8.0 has no K), or ": 25,028,904" without units; thousands separators throughout.
 */
export function formatTotal(num: number, units: 'auto' | 'none'): string {
  let unit = '',
    value = num;
  if (units === 'auto')
    [unit, value] = num >= 1e12 ? ['T', num / 1e12] : num >= 1e9 ? ['G', num / 1e9] : ['M', num / 1e6];
  const shown = Number.isInteger(value) ? withCommas(value) : fixed2(value);
  return `${unit ? ` (${unit})` : ''}: ${shown}`;
}

/** torchinfo 1.8.0's sizes: f" (MB): {bytes / 1e6:0.2f}" — two decimals, no thousands separator. */
export function formatMegabytes(bytes: number): string {
  return ` (MB): ${fixed2(bytes / 1e6, false)}`;
}

/** Rows at positions after i with a greater depth (torchinfo's "children": all descendants). */
export function descendants(rows: readonly LayerRow[], i: number): LayerRow[] {
  const out: LayerRow[] = [];
  for (let j = i + 1; j < rows.length && rows[j].depth > rows[i].depth; j++) out.push(rows[j]);
  return out;
}

/** Params not already counted by descendants: a container's own parameters. */
export function leftoverParams(
  rows: readonly LayerRow[],
  i: number,
  pick: (r: LayerRow) => number = (r) => r.numParams,
): number {
  let rest = pick(rows[i]);
  const desc = descendants(rows, i);
  desc.forEach((child, k) => {
    if (child.isRecursive) return;
    rest -= child.isLeaf ? pick(child) : leftoverParams(desc, k, pick);
  });
  return rest;
}

function cellValues(
  rows: readonly LayerRow[],
  i: number,
  atMaxDepth: boolean,
  totalParams: number,
): Record<SummaryColumn, string> {
  const r = rows[i];
  const str = (v: unknown) =>
    v === null || v === 0 || (Array.isArray(v) && v.length === 0)
      ? '--'
      : Array.isArray(v)
        ? `[${v.join(', ')}]`
        : String(v);
  const shown = atMaxDepth || r.isLeaf ? r.numParams : leftoverParams(rows, i);
  let numParams: string;
  if (r.numParams === 0) numParams = '--';
  else if (r.isRecursive) numParams = '(recursive)';
  else if (atMaxDepth || r.isLeaf)
    numParams = r.trainableParams ? withCommas(r.numParams) : `(${withCommas(r.numParams)})`;
  else numParams = shown > 0 ? withCommas(shown) : '--';
  let percent: string;
  if (totalParams === 0 || (!r.isRecursive && shown === 0)) percent = `${' '.repeat(5)}--`;
  else if (r.isRecursive) percent = '(recursive)';
  else percent = `${fixed2((shown / totalParams) * 100)}%`.padStart(7);
  let multAdds = '--';
  if (r.isLeaf) multAdds = r.multAdds > 0 ? withCommas(r.multAdds) : '--';
  else if (atMaxDepth && r.numParams > 0) {
    const s = descendants(rows, i)
      .filter((c) => c.isLeaf)
      .reduce((a, c) => a + c.multAdds, 0);
    multAdds = s > 0 ? withCommas(s) : '--';
  }
  const trainable =
    r.numParams === 0
      ? '--'
      : r.trainableParams === 0
        ? 'False'
        : r.trainableParams === r.numParams
          ? 'True'
          : 'Partial';
  return {
    input_size: str(r.inputShape),
    output_size: str(r.outputShape),
    num_params: numParams,
    params_percent: percent,
    kernel_size: str(r.kernelSize),
    mult_adds: multAdds,
    trainable,
  };
}

/** "Conv2d: 2-1" (the root shows its class alone). */
function layerTitle(r: LayerRow): string {
  return r.depth > 0 ? `${r.className}: ${r.depth}-${r.depthIndex}` : r.className;
}

/** torchinfo's tree prefix for a depth. */
function prefix(depth: number): string {
  return depth === 0 ? '' : depth === 1 ? '├─' : `${'│    '.repeat(depth - 1)}└─`;
}

/** The table part of the summary: rules, header and one line per visible row. */
export function formatTable(
  rows: readonly LayerRow[],
  columns: readonly SummaryColumn[],
  maxDepth: number,
  totalParams: number,
): { lines: string[]; width: number } {
  // The name column is 40 wide unless a title (with its indent) needs more: then a multiple of 5.
  const longest = Math.max(0, ...rows.map((r) => layerTitle(r).length + r.depth * 5 + 1));
  const nameWidth = longest >= 40 ? Math.ceil(longest / 5) * 5 : 40;
  const width = nameWidth + columns.length * COL_WIDTH;
  const line = (name: string, cells: Record<SummaryColumn, string>) =>
    `${name.padEnd(nameWidth)} ${columns.map((c) => `${cells[c].padEnd(COL_WIDTH)} `).join('')}`.trimEnd();
  const rule = '='.repeat(width);
  const lines = [rule, line('Layer (type:depth-idx)', HEADER_TITLES), rule];
  rows.forEach((r, i) => {
    if (r.depth > maxDepth) return;
    lines.push(line(prefix(r.depth) + layerTitle(r), cellValues(rows, i, r.depth === maxDepth, totalParams)));
  });
  lines.push(rule);
  return { lines, width };
}
