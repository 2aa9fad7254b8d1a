// The explorer page: torchinfo tables of any registered model, the grouped-convolution arithmetic
// and the paper's tables beside our figures (computed on the library's shapes-only backend), then
// Predict and Train (predict.ts, train.ts), which run in workers.
import { convParamReport, formatConvParams } from '../src/nn/conv-arithmetic';
import { formatPaperTables, paperTablesWithOurs } from '../src/summary/paper-report';
import { createModel, listModels, metaBackend, type ModelName, summary } from '../src/browser';
import { $, n, showError } from './dom';
import { setupPredict } from './predict';
import { setupTrain } from './train';

/** Positive integers from "2,3,224,224", or an error naming the field. */
function parseShape(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length !== 4 || !parts.every((p) => /^[1-9][0-9]*$/.test(p))) {
    throw new Error(`Input must be four positive integers N,C,H,W (such as 2,3,224,224), got '${text}'.`);
  }
  return parts.map(Number);
}

/** Horizontal bars of parameters and mult-adds per top-level module, as an SVG. */
function stageChart(rows: { name: string; params: number; multAdds: number }[]): string {
  const maxP = Math.max(1, ...rows.map((r) => r.params)),
    maxM = Math.max(1, ...rows.map((r) => r.multAdds));
  const rowH = 22,
    label = 170,
    bar = 250,
    gap = 120;
  const width = label + 2 * bar + gap + 140,
    height = rowH * rows.length + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" role="img" aria-label="parameters and mult-adds per module">`,
    `<text x="${label}" y="14" font-size="12" font-weight="600">parameters</text>`,
    `<text x="${label + bar + gap}" y="14" font-size="12" font-weight="600">mult-adds</text>`,
  ];
  rows.forEach((r, i) => {
    const y = 22 + i * rowH;
    const wp = (bar * r.params) / maxP,
      wm = (bar * r.multAdds) / maxM;
    parts.push(
      `<text x="${label - 8}" y="${y + 13}" font-size="12" text-anchor="end">${r.name}</text>`,
      `<rect x="${label}" y="${y + 2}" width="${wp}" height="${rowH - 6}" fill="#3182bd"/>`,
      `<text x="${label + wp + 4}" y="${y + 13}" font-size="11">${n(r.params)}</text>`,
      `<rect x="${label + bar + gap}" y="${y + 2}" width="${wm}" height="${rowH - 6}" fill="#e6550d"/>`,
      `<text x="${label + bar + gap + wm + 4}" y="${y + 13}" font-size="11">${n(r.multAdds)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Recomputes the Explore section from its form. */
function explore(): void {
  try {
    const picked = $<HTMLSelectElement>('model').value;
    const custom = picked === 'custom';
    $<HTMLFieldSetElement>('custom').disabled = !custom;
    // a custom model is the paper's template by name, which the CLI accepts too: resnext101_16x8d
    const name = (
      custom
        ? `resnext${$<HTMLSelectElement>('custom-depth').value}_${$<HTMLInputElement>('custom-groups').value}x${$<HTMLInputElement>('custom-width').value}d`
        : picked
    ) as ModelName;
    const input = parseShape($<HTMLInputElement>('input').value);
    const depth = Number($<HTMLInputElement>('depth').value);
    if (!Number.isInteger(depth) || depth < 0) throw new Error('Depth must be a whole number ≥ 0.');
    const strideAt = $<HTMLSelectElement>('stride-at').value as '' | '1x1' | '3x3';
    const classesText = $<HTMLInputElement>('classes').value;
    const numClasses = classesText === '' ? undefined : Number(classesText);
    const model = createModel(name, {
      backend: metaBackend,
      inChannels: input[1],
      ...(strideAt ? { strideAt } : {}),
      ...(numClasses === undefined ? {} : { numClasses }),
    });
    const s = summary(model, input, { depth });
    $('cli-command').textContent = [
      `resnext summary ${name} --input ${input.join(',')}`,
      depth === 3 ? '' : ` --depth ${depth}`,
      strideAt ? ` --stride-at ${strideAt}` : '',
      numClasses === undefined ? '' : ` --num-classes ${numClasses}`,
    ].join('');
    $('summary-table').textContent = s.toString();
    const t = s.totals;
    $('totals').innerHTML = [
      ['Total params', n(t.totalParams)],
      ['Total mult-adds', n(t.totalMultAdds)],
      ['Forward/backward pass size', `${(t.forwardBackwardBytes / 1e6).toFixed(2)} MB`],
      ['Params size', `${(t.paramBytes / 1e6).toFixed(2)} MB`],
    ]
      .map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`)
      .join('');
    // each top-level module's subtree: parameters, and the mult-adds of the leaves below it
    const top = s.rows.filter((r) => r.depth === 1);
    const stages = top.map((r) => ({
      name: r.varName,
      params: r.numParams,
      multAdds: s.rows
        .filter((q) => q.varName === r.varName || q.varName.startsWith(`${r.varName}.`))
        .reduce((a, q) => a + q.multAdds, 0),
    }));
    $('stage-chart').innerHTML = stageChart(stages);
    showError('explore-error', null);
  } catch (e) {
    showError('explore-error', e);
  }
}

/** Recomputes the grouped-convolution arithmetic and its drawing. */
function grouped(): void {
  try {
    const v = (id: string) => {
      const x = Number($<HTMLInputElement>(id).value);
      if (!Number.isInteger(x) || x < 1) throw new Error(`${id.replace('conv-', '')} must be a positive integer.`);
      return x;
    };
    const r = convParamReport(v('conv-in'), v('conv-out'), v('conv-kernel'), v('conv-groups'));
    $('conv-arithmetic').textContent = formatConvParams(r);
    $('group-drawing').innerHTML = groupDrawing(r.inChannels, r.outChannels, r.groups);
    showError('grouped-error', null);
  } catch (e) {
    $('conv-arithmetic').textContent = '';
    $('group-drawing').innerHTML = '';
    showError('grouped-error', e);
  }
}

/** Input channels (left) and output channels (right) as columns, one colour per group, joined group to group. */
function groupDrawing(inC: number, outC: number, groups: number): string {
  const shown = Math.min(groups, 32),
    h = 300,
    w = 420;
  const hue = (g: number) => `hsl(${(g * 360) / shown} 65% 55%)`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h + 30}" width="${w}" role="img" aria-label="channel groups">`,
  ];
  parts.push(
    `<text x="40" y="14" font-size="12" text-anchor="middle">${inC} in</text>`,
    `<text x="${w - 40}" y="14" font-size="12" text-anchor="middle">${outC} out</text>`,
  );
  const band = h / shown;
  for (let g = 0; g < shown; g++) {
    const y = 22 + g * band;
    parts.push(
      `<rect x="20" y="${y}" width="40" height="${band - 1}" fill="${hue(g)}"/>`,
      `<rect x="${w - 60}" y="${y}" width="40" height="${band - 1}" fill="${hue(g)}"/>`,
      `<path d="M60 ${y + band / 2} C ${w / 2} ${y + band / 2}, ${w / 2} ${y + band / 2}, ${w - 60} ${y + band / 2}" stroke="${hue(g)}" stroke-width="${Math.max(1, band / 3)}" fill="none" opacity="0.6"/>`,
    );
  }
  if (groups > shown)
    parts.push(
      `<text x="${w / 2}" y="${h + 26}" font-size="12" text-anchor="middle">first 32 of ${groups} groups</text>`,
    );
  parts.push('</svg>');
  return parts.join('');
}

function start(): void {
  const select = $<HTMLSelectElement>('model');
  for (const m of listModels()) select.add(new Option(`${m.name} — ${m.description}`, m.name));
  select.add(new Option('custom — your own ResNeXt-50/101/152 of C groups of width d', 'custom'));
  select.value = 'resnext50';
  $('explore-form').addEventListener('input', explore);
  $('explore-form').addEventListener('submit', (e) => e.preventDefault());
  $('grouped-form').addEventListener('input', grouped);
  $('grouped-form').addEventListener('submit', (e) => e.preventDefault());
  explore();
  grouped();
  setupPredict();
  setupTrain();
  // the paper's tables summarise ~20 models: after the first paint, so the page opens at once
  setTimeout(() => {
    $('paper-tables').textContent = formatPaperTables(paperTablesWithOurs());
    document.body.dataset.ready = 'true';
  }, 0);
}

start();
