// `resnext experiment`: the families keep their complexity band (and a family outside it is
// refused), the statistics are right, bad arguments exit 2, and on a short budget the runs are
// deterministic and resumable — a deleted run is trained again to the same per-epoch figures and a
// finished run is never redone.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkFamily, cardinalityFamily, complexityFamily, familyCosts, runDir } from '../src/train/experiment';
import { meanSd, pairedInterval } from '../src/train/experiment-report';
import { runCli } from './helpers';

describe('experiment families', () => {
  it('cardinality: four arms, C = 1, 2, 4, 8, parameters and mult-adds within ±3% of the 1x64d arm', () => {
    const f = cardinalityFamily();
    assert.deepEqual(
      f.arms.map((a) => a.cardinality),
      [1, 2, 4, 8],
    );
    const costs = familyCosts(f);
    for (const c of costs) {
      assert.ok(Math.abs(c.params / costs[0].params - 1) <= 0.03, `${c.label} parameters`);
      assert.ok(Math.abs(c.multAdds / costs[0].multAdds - 1) <= 0.03, `${c.label} mult-adds`);
    }
    checkFamily(f, costs);
  });
  it('complexity: the three 2x arms cost 1.75–2.1x the base and lie within ±5% of each other', () => {
    const f = complexityFamily();
    const costs = familyCosts(f);
    for (const i of f.matched) {
      const r = costs[i].multAdds / costs[0].multAdds;
      assert.ok(r > 1.75 && r < 2.1, `${costs[i].label}: ${r.toFixed(2)}x the base's mult-adds`);
    }
    checkFamily(f, costs);
  });
  it('a family outside its band is refused, naming the arm and the figure', () => {
    const f = cardinalityFamily();
    f.arms[3] = { ...f.arms[3], variant: { ...f.arms[3].variant, widthPerGroup: 20 } };
    assert.throws(
      () => checkFamily(f),
      /experiment cardinality: arm 8x14d has [\d,]+ parameters, [\d.]+% from 1x64d's [\d,]+; the arms must lie within ±3%/,
    );
  });
});

describe('experiment statistics', () => {
  it('mean, sample standard deviation and the paired 95% interval (Student t)', () => {
    assert.deepEqual(meanSd([1, 2, 3, 4, 5]), { mean: 3, sd: Math.sqrt(2.5) });
    const ci = pairedInterval([1, 2, 3, 4, 5]); // t(0.975, 4) = 2.776
    assert.ok(Math.abs(ci.high - (3 + (2.776 * Math.sqrt(2.5)) / Math.sqrt(5))) < 1e-9);
    assert.ok(Math.abs(ci.low - (3 - (2.776 * Math.sqrt(2.5)) / Math.sqrt(5))) < 1e-9);
  });
});

describe('resnext experiment on the command line', () => {
  it('unknown experiments and bad seeds or epochs: exit 2 with a clear message', () => {
    const cases: [string[], RegExp][] = [
      [['experiment', 'cardinalty'], /unknown experiment 'cardinalty'; did you mean cardinality\?/],
      [['experiment', 'width'], /unknown experiment 'width' .*expected cardinality or complexity/],
      [['experiment', 'cardinality', '--seeds', '1'], /--seeds must be at least 2/],
      [['experiment', 'cardinality', '--seeds', 'five'], /--seeds must be a positive integer/],
      [['experiment', 'cardinality', '--epochs', '0'], /--epochs must be a positive integer/],
      [['experiment', 'cardinality', '--lr', '-1'], /--lr must be a positive number/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n.+\n/, 'one line');
    }
  });
  it('a short run is deterministic and resumable: a deleted run trains again to the same figures, finished runs are not redone', {
    timeout: 600_000,
  }, () => {
    const out = mkdtempSync(join(tmpdir(), 'rx-experiment-'));
    const args = [
      'experiment',
      'cardinality',
      '--epochs',
      '2',
      '--seeds',
      '2',
      '--limit-train',
      '256',
      '--limit-test',
      '128',
    ];
    const first = runCli([...args, '--out', out]);
    assert.equal(first.status, 0, first.stderr);
    const before = JSON.parse(readFileSync(join(out, 'runs.json'), 'utf8'));
    assert.equal(before.runs.length, 8);
    assert.ok(before.runs.every((r: { epochs: unknown[] }) => r.epochs.length === 2));
    assert.match(readFileSync(join(out, 'results.md'), 'utf8'), /\| 8x14d \| 8x14d \| 215,962 \|/);
    rmSync(runDir(out, '4x24d', 1), { recursive: true });
    const again = runCli([...args, '--out', out]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stderr.match(/finished earlier: not redone/g)?.length, 7, again.stderr);
    const after = JSON.parse(readFileSync(join(out, 'runs.json'), 'utf8'));
    assert.deepEqual(after.runs, before.runs, 'the retrained run has the same per-epoch figures');
  });
});
