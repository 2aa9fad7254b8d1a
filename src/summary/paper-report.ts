// The paper's Tables 1, 3, 4 and 7 (and Table 2, computed) with our computed parameters and
// mult-adds beside the published figures — the text `resnext paper` prints and the page shows.
import { PAPER_CITATION, PAPER_TABLES, type PaperRow, type PaperTable, TABLE2_SETTINGS } from '../models/paper';
import { type ModelStats, modelStats } from './stats';
import { textTable } from './text-table';

const millions = (v?: number) => (v === undefined ? '' : `${(v / 1e6).toFixed(1)} M`);
const giga = (v?: number) => (v === undefined ? '' : `${(v / 1e9).toFixed(2)} G`);
const pct = (v?: number) => (v === undefined ? '' : v.toFixed(2).replace(/0$/, ''));

/** A paper table whose rows carry our figures for the model (and its ResNeXt-101 counterpart). */
export type PaperTableWithOurs = Omit<PaperTable, 'rows'> & {
  rows: (PaperRow & { ours?: ModelStats; ours101?: ModelStats })[];
};

/** The paper's tables with our figures computed from the registered models (on the meta backend). */
export function paperTablesWithOurs(): PaperTableWithOurs[] {
  const stats = new Map<string, ModelStats>();
  const ours = (model?: string | null) => {
    if (!model) return undefined;
    if (!stats.has(model)) stats.set(model, modelStats(model));
    return stats.get(model);
  };
  return PAPER_TABLES.map((t) => ({
    ...t,
    rows: t.rows.map((r) => ({ ...r, ours: ours(r.model), ours101: ours(r.model101) })),
  }));
}

/** The tables as text. */
export function formatPaperTables(tables: readonly PaperTableWithOurs[]): string {
  const out: string[] = [
    `Source: ${PAPER_CITATION}`,
    'Ours: computed from the registered model (mult-adds per 224x224 image, 32x32 for CIFAR).',
    '',
  ];
  for (const t of tables) {
    if (t.id === 'table3') out.push(table2(), '');
    const errorCols =
      t.id === 'table3'
        ? ['top-1 (50)', 'top-1 (101)']
        : t.id === 'table7'
          ? ['CIFAR-10', 'CIFAR-100']
          : t.id === 'table4'
            ? ['top-1', 'top-5']
            : [];
    const table3 = t.id === 'table3';
    const header = table3
      ? ['', 'ResNeXt-50 model', 'params', 'mult-adds', 'ResNeXt-101 model', 'params', 'mult-adds', ...errorCols]
      : ['', 'model', 'params', 'mult-adds', 'paper params', 'paper FLOPs', ...errorCols];
    const rows = t.rows.map((r) => {
      const errs = table3
        ? [pct(r.top1), pct(r.top1At101)]
        : t.id === 'table7'
          ? [pct(r.cifar10), pct(r.cifar100)]
          : t.id === 'table4'
            ? [pct(r.top1), pct(r.top5)]
            : [];
      const published = table3
        ? [r.model101 ?? '-', millions(r.ours101?.params), giga(r.ours101?.multAddsPerImage)]
        : [millions(r.params), giga(r.flops)];
      return [r.label, r.model ?? '-', millions(r.ours?.params), giga(r.ours?.multAddsPerImage), ...published, ...errs];
    });
    // a column the paper leaves empty for every row of this table (Table 4 gives no sizes) is left out
    const keep = header.map((h, i) => !h.startsWith('paper') || rows.some((r) => r[i] !== ''));
    const pick = <T>(xs: T[]) => xs.filter((_, i) => keep[i]);
    out.push(
      t.title,
      textTable(pick(header), rows.map(pick), pick(header.map((h, i) => i >= 2 && !h.includes('model')))),
      t.note,
      '',
    );
  }
  return out.join('\n');
}

/** Table 2, computed: each (C, d) setting of the ResNet-50 template with our parameters and mult-adds. */
function table2(): string {
  const rows = TABLE2_SETTINGS.map(([c, d]) => {
    const name = `resnext50_${c}x${d}d`; // the paper's template by name (models/registry.ts)
    const t = modelStats(name);
    return [String(c), String(d), String(c * d), name, millions(t.params), giga(t.multAddsPerImage)];
  });
  return [
    'Table 2: (C, d) settings at about the complexity of the ResNet-50 template',
    textTable(['cardinality C', 'width d', 'group conv width', 'model', 'params', 'mult-adds'], rows, [
      true,
      true,
      true,
      false,
      true,
      true,
    ]),
    'The group conv widens (C·d) as the 1x1 convs narrow: parameters and mult-adds stay within about 5%.',
  ].join('\n');
}
