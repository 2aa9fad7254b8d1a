// summary(model, inputSize): torchinfo's table and totals for any Module, computed on the
// meta backend (no arithmetic), as text (torchinfo's exact layout) or JSON.
import type { DType } from '../backend/contract';
import type { Module } from '../nn/module';
import { formatShape } from '../tensor/shape';
import { collectRows, downsamplingWarnings, type LayerRow } from './collect';
import { ALL_COLUMNS, formatMegabytes, formatTable, formatTotal, leftoverParams, type SummaryColumn } from './format';

export { ALL_COLUMNS, type SummaryColumn } from './format';
export type { LayerRow } from './collect';

/** Options of summary (torchinfo's depth and col_names). */
export interface SummaryOptions {
  /** Rows deeper than this are counted but hidden (default 3). */
  depth?: number;
  /** Columns to show (default output_size, num_params). */
  columns?: readonly SummaryColumn[];
  /** Input dtype (default float32). */
  dtype?: DType;
}

/** Totals, as torchinfo computes them. */
export interface SummaryTotals {
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  totalMultAdds: number;
  inputBytes: number;
  /** Forward/backward pass: 2 × output bytes of every leaf layer with parameters. */
  forwardBackwardBytes: number;
  paramBytes: number;
  totalBytes: number;
}

/** A summary as plain data (`ModelSummary.toJSON()`; `resnext summary --json` is this). */
export interface SummaryData {
  model: string;
  inputSize: number[];
  depth: number;
  columns: SummaryColumn[];
  rows: (LayerRow & { visible: boolean })[];
  totals: SummaryTotals;
  warnings: string[];
}

/** The result of summary(): rows, totals, and their text and JSON forms. */
export class ModelSummary {
  constructor(
    readonly modelName: string,
    readonly inputSize: readonly number[],
    readonly rows: readonly LayerRow[],
    readonly totals: SummaryTotals,
    readonly depth: number,
    readonly columns: readonly SummaryColumn[],
    /** Notes about the input (e.g. too small for the network to downsample); not part of the table. */
    readonly warnings: readonly string[] = [],
  ) {}

  /** torchinfo's table, line for line. */
  toString(): string {
    const t = this.totals;
    const { lines, width } = formatTable(this.rows, this.columns, this.depth, t.totalParams);
    const rule = '='.repeat(width);
    lines.push(
      `Total params${formatTotal(t.totalParams, 'none')}`,
      `Trainable params${formatTotal(t.trainableParams, 'none')}`,
      `Non-trainable params${formatTotal(t.nonTrainableParams, 'none')}`,
      `Total mult-adds${formatTotal(t.totalMultAdds, 'auto')}`,
      rule,
      `Input size${formatMegabytes(t.inputBytes)}`,
      `Forward/backward pass size${formatMegabytes(t.forwardBackwardBytes)}`,
      `Params size${formatMegabytes(t.paramBytes)}`,
      `Estimated Total Size${formatMegabytes(t.totalBytes)}`,
      rule,
    );
    return lines.join('\n');
  }

  /** Plain data: model, input, depth, columns, every row (visible or not) and the totals. */
  toJSON(): SummaryData {
    return {
      model: this.modelName,
      inputSize: [...this.inputSize],
      depth: this.depth,
      columns: [...this.columns],
      rows: this.rows.map((r) => ({ ...r, visible: r.depth <= this.depth })),
      totals: this.totals,
      warnings: [...this.warnings],
    };
  }
}

/** torchinfo's totals over the rows. */
export function computeTotals(rows: readonly LayerRow[], inputBytes: number): SummaryTotals {
  let totalParams = 0,
    trainableParams = 0,
    totalMultAdds = 0,
    forwardBackwardBytes = 0,
    paramBytes = 0;
  rows.forEach((r, i) => {
    if (r.isLeaf) {
      totalMultAdds += r.multAdds;
      if (r.numParams > 0) forwardBackwardBytes += 2 * r.outputBytes; // ×2 for gradients
      if (r.isRecursive) return;
      totalParams += r.numParams;
      trainableParams += r.trainableParams;
      paramBytes += r.paramBytes;
    } else if (!r.isRecursive) {
      totalParams += Math.max(leftoverParams(rows, i), 0);
      trainableParams += Math.max(
        leftoverParams(rows, i, (x) => x.trainableParams),
        0,
      );
    }
  });
  return {
    totalParams,
    trainableParams,
    nonTrainableParams: totalParams - trainableParams,
    totalMultAdds,
    inputBytes,
    forwardBackwardBytes,
    paramBytes,
    totalBytes: inputBytes + forwardBackwardBytes + paramBytes,
  };
}

/** Summarises `model` for an input of `inputSize` (e.g. [2, 3, 224, 224]), like torchinfo.summary. */
export function summary(model: Module, inputSize: readonly number[], opts: SummaryOptions = {}): ModelSummary {
  const depth = opts.depth ?? 3;
  if (!Number.isInteger(depth) || depth < 0)
    throw new Error(`summary: depth must be a non-negative integer, got ${depth}`);
  if (inputSize.length === 0 || !inputSize.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`summary: input size ${formatShape(inputSize)} must be positive integers, e.g. [2, 3, 224, 224]`);
  }
  const columns = opts.columns ?? ['output_size', 'num_params'];
  for (const c of columns)
    if (!ALL_COLUMNS.includes(c))
      throw new Error(`summary: unknown column '${c}'; choose from ${ALL_COLUMNS.join(', ')}`);
  const dtype = opts.dtype ?? 'float32';
  const rows = collectRows(model, inputSize, dtype);
  const inputBytes = inputSize.reduce((a, b) => a * b, 1) * (dtype === 'float32' ? 4 : 8);
  const warnings = downsamplingWarnings(rows, inputSize);
  return new ModelSummary(model.typeName, inputSize, rows, computeTotals(rows, inputBytes), depth, columns, warnings);
}
