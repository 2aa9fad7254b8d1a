// What `resnext experiment` writes when its runs are done: runs.json (every run's per-epoch
// figures), results.md (mean ± standard deviation per arm, paired differences to the reference arm
// with 95% confidence intervals, the paper's figures beside) and two plots rendered by Vega —
// test error by arm with error bars, and mean training curves per arm (the paper's Figure 5).
import { join } from 'node:path';
import { writeFileAtomic } from '../io/files';
import type { ArmCost, Family, RunResult } from './experiment';
import { renderVega } from './plot';

/** Student's t 0.975 quantiles for 1…30 degrees of freedom (beyond: the normal's 1.96). */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Mean and sample standard deviation (0 for one value). */
export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

/** The mean of paired differences and its 95% confidence interval (Student's t, n − 1 df). */
export function pairedInterval(diffs: readonly number[]): { mean: number; low: number; high: number } {
  const { mean, sd } = meanSd(diffs);
  const df = diffs.length - 1;
  const t = df >= 1 ? (T975[df - 1] ?? 1.96) : Number.NaN;
  const half = (t * sd) / Math.sqrt(diffs.length);
  return { mean, low: mean - half, high: mean + half };
}

/** One arm's summary over its seeds (errors in %). */
export interface ArmSummary {
  label: string;
  setting: string;
  params: number;
  multAdds: number;
  seeds: number;
  testError: { mean: number; sd: number };
  trainLoss: { mean: number; sd: number };
  /** Paired over seeds, this arm's test error minus the reference arm's (absent for the reference). */
  vsReference?: { mean: number; low: number; high: number };
  paper: { setting: string; top1Error: number };
}

const finalOf = (r: RunResult) => r.epochs[r.epochs.length - 1];

/** Per-arm statistics of finished runs. */
export function summarize(family: Family, costs: readonly ArmCost[], results: readonly RunResult[]): ArmSummary[] {
  const ref = family.arms[family.reference].label;
  const errorOf = (r: RunResult) => 100 * (1 - finalOf(r).testTop1);
  const refBySeed = new Map(results.filter((r) => r.arm === ref).map((r) => [r.seed, errorOf(r)]));
  return family.arms.map((a, i) => {
    const runs = results.filter((r) => r.arm === a.label);
    const paired = runs.filter((r) => refBySeed.has(r.seed)).map((r) => errorOf(r) - refBySeed.get(r.seed)!);
    return {
      label: a.label,
      setting: a.setting,
      params: costs[i].params,
      multAdds: costs[i].multAdds,
      seeds: runs.length,
      testError: meanSd(runs.map(errorOf)),
      trainLoss: meanSd(runs.map((r) => finalOf(r).trainLoss)),
      ...(a.label !== ref && paired.length > 1 ? { vsReference: pairedInterval(paired) } : {}),
      paper: a.paper,
    };
  });
}

const pct = (x: number) => x.toFixed(2);
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;

/** The Markdown table of an experiment. */
export function resultsMarkdown(family: Family, rows: readonly ArmSummary[], recipe: string): string {
  const ref = rows[family.reference];
  const lines = [
    `# resnext experiment ${family.name}`,
    '',
    `${family.description}. ${recipe}`,
    '',
    `| arm | C×d | params | mult-adds | test error % (mean ± sd) | final train loss (mean ± sd) | Δ test error vs ${ref.label}, paired, 95% CI | paper (ImageNet top-1 error %) |`,
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const delta = r.vsReference
        ? `${signed(r.vsReference.mean)} [${signed(r.vsReference.low)}, ${signed(r.vsReference.high)}]`
        : '—';
      return (
        `| ${r.label} | ${r.setting} | ${r.params.toLocaleString('en-US')} | ${r.multAdds.toLocaleString('en-US')} | ` +
        `${pct(r.testError.mean)} ± ${pct(r.testError.sd)} | ${r.trainLoss.mean.toFixed(4)} ± ${r.trainLoss.sd.toFixed(4)} | ` +
        `${delta} | ${r.paper.setting}: ${r.paper.top1Error.toFixed(1)} |`
      );
    }),
    '',
    `Each arm: ${rows[0].seeds} seeds; a seed fixes the initialisation seed and the data order, the same for every arm, ` +
      'so differences are paired by seed. A confidence interval that excludes 0 is a difference the runs resolve.',
    '',
  ];
  return lines.join('\n');
}

/** Test error per arm: the mean as a point, ± one standard deviation as a bar, each seed as a dot. */
function errorSpec(family: Family, rows: readonly ArmSummary[], results: readonly RunResult[]): object {
  const means = rows.map((r) => ({
    arm: r.label,
    mean: r.testError.mean,
    low: r.testError.mean - r.testError.sd,
    high: r.testError.mean + r.testError.sd,
  }));
  const seeds = results.map((r) => ({ arm: r.arm, error: 100 * (1 - finalOf(r).testTop1) }));
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 420,
    height: 260,
    padding: 10,
    background: 'white',
    title: { text: `test error by arm (${family.name}): mean ± sd over seeds, dots = seeds` },
    data: [
      { name: 'means', values: means },
      { name: 'seeds', values: seeds },
    ],
    scales: [
      { name: 'x', type: 'point', domain: rows.map((r) => r.label), range: 'width', padding: 0.5 },
      {
        name: 'y',
        type: 'linear',
        domain: {
          fields: [
            { data: 'means', field: 'low' },
            { data: 'means', field: 'high' },
            { data: 'seeds', field: 'error' },
          ],
        },
        range: 'height',
        nice: true,
        zero: false,
      },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: family.name === 'cardinality' ? 'arm (cardinality × width)' : 'arm' },
      { orient: 'left', scale: 'y', title: 'test error (%)', grid: true },
    ],
    marks: [
      {
        type: 'symbol',
        from: { data: 'seeds' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'arm' },
            y: { scale: 'y', field: 'error' },
            size: { value: 20 },
            fill: { value: '#9ecae1' },
          },
        },
      },
      {
        type: 'rule',
        from: { data: 'means' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'arm' },
            y: { scale: 'y', field: 'low' },
            y2: { scale: 'y', field: 'high' },
            stroke: { value: '#08519c' },
            strokeWidth: { value: 2 },
          },
        },
      },
      {
        type: 'symbol',
        from: { data: 'means' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'arm' },
            y: { scale: 'y', field: 'mean' },
            size: { value: 70 },
            fill: { value: '#08519c' },
          },
        },
      },
    ],
  };
}

/** Mean training loss and test error per epoch, one line per arm (the paper's Figure 5). */
function curvesSpec(family: Family, results: readonly RunResult[]): object {
  const values: { arm: string; epoch: number; trainLoss: number; testError: number }[] = [];
  for (const a of family.arms) {
    const runs = results.filter((r) => r.arm === a.label);
    const epochs = Math.min(...runs.map((r) => r.epochs.length));
    for (let e = 0; e < epochs; e++) {
      values.push({
        arm: a.label,
        epoch: e + 1,
        trainLoss: meanSd(runs.map((r) => r.epochs[e].trainLoss)).mean,
        testError: meanSd(runs.map((r) => 100 * (1 - r.epochs[e].testTop1))).mean,
      });
    }
  }
  const panel = (field: string, title: string, left: number) => ({
    type: 'group',
    encode: { enter: { x: { value: left }, width: { value: 300 }, height: { value: 240 } } },
    title: { text: title, anchor: 'start' },
    scales: [
      {
        name: 'x',
        type: 'linear',
        domain: { data: 'curves', field: 'epoch' },
        range: [0, 300],
        zero: false,
        nice: false,
      },
      { name: 'y', type: 'linear', domain: { data: 'curves', field }, range: [240, 0], zero: false, nice: true },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'epoch', tickMinStep: 1, format: 'd' },
      { orient: 'left', scale: 'y', grid: true },
    ],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'byArm', data: 'curves', groupby: 'arm' } },
        marks: [
          {
            type: 'line',
            from: { data: 'byArm' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'epoch' },
                y: { scale: 'y', field },
                stroke: { scale: 'color', field: 'arm' },
                strokeWidth: { value: 2 },
              },
            },
          },
          {
            type: 'symbol',
            from: { data: 'byArm' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'epoch' },
                y: { scale: 'y', field },
                fill: { scale: 'color', field: 'arm' },
                size: { value: 30 },
              },
            },
          },
        ],
      },
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 700,
    height: 260,
    padding: 10,
    background: 'white',
    title: { text: `training curves by arm (${family.name}), mean over seeds` },
    data: [{ name: 'curves', values }],
    scales: [{ name: 'color', type: 'ordinal', domain: family.arms.map((a) => a.label), range: 'category' }],
    legends: [{ fill: 'color', title: 'arm', orient: 'right' }],
    marks: [
      panel('trainLoss', 'training loss (augmented, as optimised)', 0),
      panel('testError', 'test error (%)', 380),
    ],
  };
}

/** Writes runs.json, results.md, error.svg/png and curves.svg/png into `outDir`. */
export async function writeExperimentReport(
  outDir: string,
  family: Family,
  costs: readonly ArmCost[],
  results: readonly RunResult[],
  recipe: string,
): Promise<ArmSummary[]> {
  const rows = summarize(family, costs, results);
  writeFileAtomic(
    join(outDir, 'runs.json'),
    `${JSON.stringify({ experiment: family.name, recipe, arms: costs, runs: results }, null, 1)}\n`,
  );
  writeFileAtomic(join(outDir, 'results.md'), resultsMarkdown(family, rows, recipe));
  await renderVega(errorSpec(family, rows, results), join(outDir, 'error.svg'), join(outDir, 'error.png'));
  await renderVega(curvesSpec(family, results), join(outDir, 'curves.svg'), join(outDir, 'curves.png'));
  return rows;
}
