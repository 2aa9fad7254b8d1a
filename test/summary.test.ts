// summary(): the tutorial's golden table, torchinfo's padding and totals, other columns and depths.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { metaBackend } from '../src/backend/meta';
import { createModel, modelName } from '../src/models/registry';
import { summary } from '../src/summary';
import { fixed2, formatMegabytes, formatTotal } from '../src/summary/format';
import { collapse, GOLDEN, modelStatsFixture, SPEC_GOLDEN } from './helpers';

const meta = (name: string, opts = {}) => createModel(modelName(name), { backend: metaBackend, ...opts });

describe('summary of the tutorial ResNeXt-50 at [2, 3, 224, 224]', () => {
  it("the committed golden file is the spec's", {
    skip: !existsSync(SPEC_GOLDEN) && 'no ../shared/spec beside this checkout',
  }, () => {
    assert.equal(readFileSync(GOLDEN, 'utf8'), readFileSync(SPEC_GOLDEN, 'utf8'));
  });
  const text = summary(meta('resnext50'), [2, 3, 224, 224]).toString();
  it('matches the golden table line for line (runs of spaces collapsed)', () => {
    assert.equal(collapse(text), collapse(readFileSync(GOLDEN, 'utf8')));
  });
  it("uses torchinfo's real padding: 90-character rules, 40/25/25 columns", () => {
    const lines = text.split('\n');
    assert.equal(lines[0], '='.repeat(90));
    assert.equal(lines[1], `${'Layer (type:depth-idx)'.padEnd(40)} ${'Output Shape'.padEnd(25)} Param #`);
    assert.equal(lines[5], `${'│    └─Conv2d: 2-1'.padEnd(40)} ${'[2, 64, 112, 112]'.padEnd(25)} 9,408`);
    assert.equal(lines[11], `${'│    │    └─Sequential: 3-1'.padEnd(40)} ${'[2, 256, 56, 56]'.padEnd(25)} 46,592`);
    assert.ok(
      lines.every((l) => l === l.trimEnd()),
      'lines are right-stripped',
    );
  });
});

describe("totals follow torchinfo's rules (checked against PyTorch hooks)", () => {
  const fx = modelStatsFixture().summaries;
  const cases: [string, string, object][] = [
    ['resnext50', 'resnext50', {}],
    ['resnext50@3x3', 'resnext50', { strideAt: '3x3' }],
    ['resnext50_32x4d', 'resnext50_32x4d', {}],
    ['resnext29_8x64d', 'resnext29_8x64d', {}],
  ];
  for (const [key, name, opts] of cases) {
    it(key, () => {
      const want = fx[key];
      const t = summary(meta(name, opts), want.inputSize).totals;
      assert.equal(t.totalParams, want.params);
      assert.equal(t.totalMultAdds, want.mult_adds);
      assert.equal(t.forwardBackwardBytes, want.fwd_bwd_bytes);
      assert.equal(t.paramBytes, want.param_bytes);
    });
  }
  it("the tutorial's figures: 7.54 G mult-adds (1x1 stride) vs 8.46 G (3x3 stride), 528.43 MB", () => {
    const oneByOne = summary(meta('resnext50'), [2, 3, 224, 224]).totals;
    assert.equal(oneByOne.totalMultAdds, 7_536_254_160);
    assert.equal(oneByOne.forwardBackwardBytes, 427_114_112);
    assert.equal(oneByOne.paramBytes, 100_115_616);
    assert.equal(
      (summary(meta('resnext50', { strideAt: '3x3' }), [2, 3, 224, 224]).totals.totalMultAdds / 1e9).toFixed(2),
      '8.46',
    );
  });
});

describe('summary options', () => {
  it('all columns: kernel shapes, mult-adds, percentages, trainable', () => {
    const s = summary(meta('resnext50'), [2, 3, 224, 224], {
      columns: ['input_size', 'output_size', 'num_params', 'params_percent', 'kernel_size', 'mult_adds', 'trainable'],
      depth: 2,
    });
    const lines = s.toString().split('\n');
    assert.equal(lines[0].length, 40 + 7 * 25);
    const conv = lines.find((l) => l.startsWith('│    └─Conv2d: 2-1'))!;
    assert.match(conv, /\[2, 3, 224, 224\] +\[2, 64, 112, 112\] +9,408 +0\.04% +\[7, 7\] +236,027,904 +True$/);
    const pool = lines.find((l) => l.startsWith('├─MaxPool2d: 1-2'))!;
    assert.match(pool, /--\s+3\s+--\s+--$/);
    const fc = lines.find((l) => l.startsWith('├─Linear: 1-8'))!;
    assert.match(fc, /2,049,000 +8\.19% +-- +4,098,000 +True$/);
  });
  it('depth 1 shows containers with their subtree parameters and mult-adds', () => {
    const s = summary(meta('resnext50'), [2, 3, 224, 224], { depth: 1, columns: ['num_params', 'mult_adds'] });
    const stage1 = s
      .toString()
      .split('\n')
      .find((l) => l.startsWith('├─Sequential: 1-3'))!;
    const leafMultAdds = s.rows
      .filter((r) => r.varName.startsWith('stage1.') && r.isLeaf)
      .reduce((a, r) => a + r.multAdds, 0);
    assert.equal(leafMultAdds, 1_268_456_448);
    assert.match(stage1, /205,824 +1,268,456,448$/);
    assert.equal(s.totals.totalParams, 25_028_904, 'hidden rows still count');
  });
  it('JSON form carries every row with visibility and the totals', () => {
    const j = summary(meta('resnext50'), [2, 3, 224, 224]).toJSON() as {
      rows: { visible: boolean; depth: number }[];
      totals: { totalParams: number };
    };
    assert.equal(j.totals.totalParams, 25_028_904);
    assert.ok(j.rows.some((r) => r.depth === 4 && !r.visible));
  });
  it('rejects bad sizes and columns with clear messages; runs a too-small input with a warning, as PyTorch runs it', () => {
    assert.throws(
      () => summary(meta('resnext50'), [2, 3, 0, 224]),
      /input size \[2, 3, 0, 224\] must be positive integers/,
    );
    assert.throws(
      () => summary(meta('resnext50'), [2, 3, 224, 224], { columns: ['bogus' as never] }),
      /unknown column 'bogus'/,
    );
    const small = summary(meta('resnext50'), [2, 3, 16, 16]);
    assert.match(small.warnings.join(), /Conv2d 'stage4\.0\.residual\.0' has stride 2x2 but receives a 1x1 map/);
    assert.deepEqual(summary(meta('resnext50'), [2, 3, 224, 224]).warnings, []);
    assert.throws(
      () => summary(meta('resnext50'), [2, 4, 224, 224]),
      /weight \[64, 3, 7, 7\] expects 3 input channels .* has 4/,
    );
  });
  it('leaves the model in the mode it was in', () => {
    const m = meta('resnext29_8x64d');
    summary(m, [1, 3, 32, 32]);
    assert.ok(m.namedModules().every(([, x]) => x.training));
  });
});

describe("torchinfo's number formats (torchinfo 1.8.0, model_statistics.py)", () => {
  it('units and rounding', () => {
    assert.equal(formatTotal(25_028_904, 'none'), ': 25,028,904');
    assert.equal(formatTotal(7_536_254_160, 'auto'), ' (G): 7.54');
    assert.equal(formatTotal(556_000_000, 'auto'), ' (M): 556');
    assert.equal(formatTotal(20_480, 'auto'), ' (M): 0.02', '1.8.0 has no K: below 1e9 it is M');
    assert.equal(formatTotal(1_234_567_890_123_456, 'auto'), ' (T): 1,234.57');
    assert.equal(formatMegabytes(1_204_224), ' (MB): 1.20');
    assert.equal(formatMegabytes(1_234_567_890_123), ' (MB): 1234567.89', 'sizes use {:0.2f}: no thousands separator');
    assert.equal(fixed2(0.125), '0.12', "Python's round-half-even on exact ties");
    assert.equal(fixed2(0.375), '0.38');
  });
  it('a model above 1,000 MB prints every total as torchinfo does', () => {
    const s = summary(meta('resnext50'), [6, 3, 224, 224]);
    const lines = s.toString().split('\n');
    const t = s.totals;
    const mb = (bytes: number) => (Math.round(bytes / 1e4) / 100).toFixed(2);
    assert.ok(t.totalBytes > 1e9, `the case needs a total above 1,000 MB (got ${t.totalBytes})`);
    for (const [label, bytes] of [
      ['Input size', t.inputBytes],
      ['Forward/backward pass size', t.forwardBackwardBytes],
      ['Params size', t.paramBytes],
      ['Estimated Total Size', t.totalBytes],
    ] as const) {
      assert.ok(
        lines.includes(`${label} (MB): ${mb(bytes)}`),
        `${label}: expected ${mb(bytes)} in\n${lines.slice(-7).join('\n')}`,
      );
    }
    assert.ok(lines.includes('Total params: 25,028,904'));
    assert.ok(lines.includes(`Total mult-adds (G): ${(t.totalMultAdds / 1e9).toFixed(2)}`));
  });
});
