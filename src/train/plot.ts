// Training curves (loss and accuracy per epoch, train and test) rendered with Vega to SVG and,
// through sharp's SVG rasteriser, to PNG.
import type * as Vega from 'vega';
import { writeFileAtomic } from '../io/files';

/** One epoch's numbers, as the JSONL log holds them. */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  testLoss: number;
  testTop1: number;
}

/** One chart (train and test lines of two fields) placed `top` pixels down. */
function panel(name: string, title: string, field: [string, string], top: number): object {
  return {
    type: 'group',
    name,
    encode: { enter: { y: { value: top }, width: { signal: 'width' }, height: { value: 180 } } },
    title: { text: title, anchor: 'start' },
    scales: [
      {
        name: 'x',
        type: 'linear',
        domain: { data: 'curves', field: 'epoch' },
        range: 'width',
        zero: false,
        nice: false,
      },
      {
        name: 'y',
        type: 'linear',
        domain: { data: 'curves', fields: field },
        range: [180, 0],
        nice: true,
        zero: false,
      },
      { name: 'color', type: 'ordinal', domain: ['train', 'test'], range: ['#1f77b4', '#d62728'] },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'epoch', tickMinStep: 1 },
      { orient: 'left', scale: 'y', grid: true },
    ],
    legends: [{ fill: 'color', orient: 'right' }],
    marks: ['train', 'test']
      .map((split, i) => ({
        type: 'line',
        from: { data: 'curves' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'epoch' },
            y: { scale: 'y', field: field[i] },
            stroke: { scale: 'color', value: split },
            strokeWidth: { value: 2 },
          },
        },
      }))
      .concat(
        ['train', 'test'].map((split, i) => ({
          type: 'symbol',
          from: { data: 'curves' },
          encode: {
            enter: {
              x: { scale: 'x', field: 'epoch' },
              y: { scale: 'y', field: field[i] },
              fill: { scale: 'color', value: split },
              size: { value: 25 },
            },
          },
        })) as never[],
      ),
  };
}

/** Writes curves.svg and curves.png for the records so far. */
export async function writeCurves(
  svgPath: string,
  pngPath: string,
  records: readonly EpochRecord[],
  title: string,
): Promise<void> {
  const values = records.map((r) => ({ ...r, trainAccPct: 100 * r.trainAcc, testTop1Pct: 100 * r.testTop1 }));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 460,
    height: 420,
    padding: 10,
    background: 'white',
    title: { text: title },
    data: [{ name: 'curves', values }],
    marks: [
      panel('loss', 'loss (train: as optimised, augmented; test: cross-entropy)', ['trainLoss', 'testLoss'], 0),
      panel('accuracy', 'top-1 accuracy (%)', ['trainAccPct', 'testTop1Pct'], 240),
    ],
  };
  await renderVega(spec, svgPath, pngPath);
}

/** Renders a Vega spec to an SVG file and, through sharp's SVG rasteriser, a PNG file (both atomic). */
export async function renderVega(spec: object, svgPath: string, pngPath: string): Promise<void> {
  // vega and sharp (a native module) load here, on first use, not when the package is imported
  const vega = await import('vega');
  const { default: sharp } = await import('sharp');
  const svg = await new vega.View(vega.parse(spec as Vega.Spec), { renderer: 'none' }).toSVG();
  writeFileAtomic(svgPath, svg);
  writeFileAtomic(pngPath, await sharp(Buffer.from(svg)).png().toBuffer());
}
