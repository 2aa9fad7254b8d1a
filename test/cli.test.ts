// The `resnext` command end to end: golden summary, JSON listings, conv-params, paper, help, exit codes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { saveSafetensors } from '../src/io/load-save';
import { createModel, getVariant } from '../src/models/registry';
import { collapse, GOLDEN, modelStatsFixture, runCli } from './helpers';

describe('resnext summary', () => {
  it('reproduces the golden table for the tutorial command', () => {
    const r = runCli(['summary', 'resnext50', '--input', '2,3,224,224']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(collapse(r.stdout), collapse(readFileSync(GOLDEN, 'utf8')));
    assert.equal(r.stdout.split('\n')[0].length, 90);
  });
  it('--json, --depth, --columns, --stride-at', () => {
    const r = runCli(['summary', 'resnext50', '--input', '2,3,224,224', '--stride-at', '3x3', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.model, 'resnext50');
    assert.equal((j.totals.totalMultAdds / 1e9).toFixed(2), '8.46');
    const d = runCli(['summary', 'resnet18', '--depth', '1', '--columns', 'output_size,num_params,mult_adds']);
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stdout, /Mult-Adds/);
    assert.ok(!d.stdout.includes('└─'), 'depth 1 hides deeper rows');
  });
  const bad: [string, string[], RegExp][] = [
    ['unknown model', ['summary', 'resnext5'], /unknown model 'resnext5'; did you mean resnext50/],
    ['malformed --input', ['summary', 'resnext50', '--input', '3,224'], /--input '3,224' must be C,H,W or N,C,H,W/],
    [
      'non-numeric --input',
      ['summary', 'resnext50', '--input', '2,x,224,224'],
      /not a comma-separated list of positive integers/,
    ],
    ['bad --stride-at', ['summary', 'resnext50', '--stride-at', '5x5'], /--stride-at must be one of 1x1, 3x3/],
    ['bad column', ['summary', 'resnext50', '--columns', 'params'], /--columns entry must be one of/],
    ['unknown option', ['summary', 'resnext50', '--bogus'], /unknown option '--bogus'/],
  ];
  for (const [what, args, message] of bad) {
    it(`rejects ${what} with exit code 2 and no stack trace`, () => {
      const r = runCli(args);
      assert.equal(r.status, 2);
      assert.match(r.stderr, message);
      assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
    });
  }
});

describe('inputs and arguments every command checks the same way', () => {
  it('an input too small to downsample runs in summary and export, each with the same warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rx-small-'));
    for (const args of [
      ['summary', 'resnext50', '--input', '1,3,16,16'],
      ['export', 'resnext50', '--input', '3,16,16', '--onnx', join(dir, 's.onnx')],
    ]) {
      const r = runCli(args);
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stderr,
        /warning: input \[1, 3, 16, 16\] is small for this network: Conv2d 'stage4\.0\.residual\.0' has stride 2x2/,
      );
    }
  });
  const bad: [string, string[], RegExp][] = [
    [
      'a non-numeric --warmup',
      ['bench', 'resnext_tiny', '--warmup', 'abc'],
      /--warmup must be a non-negative integer up to 2,147,483,647, got 'abc'/,
    ],
    ['a negative --warmup', ['bench', 'resnext_tiny', '--warmup', '-5'], /--warmup must be a non-negative integer/],
    [
      'a channel count beyond 32 bits',
      ['conv-params', '99999999999999999999', '4', '3'],
      /<in> must be a positive integer up to 2,147,483,647/,
    ],
    [
      'an input no machine holds',
      ['bench', 'resnext50', '--input', '3,100000,100000'],
      /needs about \d+\.\d GB for one forward pass of resnext50; this machine has/,
    ],
  ];
  for (const [what, args, message] of bad) {
    it(`refuses ${what} before any work: exit 2, one line`, () => {
      const r = runCli(args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }
});

describe('conv-params with groups=1', () => {
  it('says it is a dense convolution instead of "each of 1 groups"', () => {
    const r = runCli(['conv-params', '64', '128', '3', '--groups', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /a dense convolution \(groups=1\)\n {2}64 x 128 x 3 x 3 = 73,728 weights/);
    assert.ok(!r.stdout.includes('each of 1 groups'));
  });
});

describe('one option vocabulary', () => {
  for (const cmd of ['bench', 'export', 'train', 'eval']) {
    it(`${cmd} --help: --batch-size, the global options, plain defaults`, () => {
      const r = runCli([cmd, '--help']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /--batch-size <n>/);
      assert.match(r.stdout, /Global Options:[\s\S]*--backend <name>[\s\S]*--threads <n>/);
      assert.ok(!/\(default: "/.test(r.stdout), 'defaults print without quotes');
    });
  }
  it('--input is C,H,W or N,C,H,W in every command; a batch given twice must agree', () => {
    const one = JSON.parse(runCli(['summary', 'resnext_tiny', '--input', '3,32,32', '--json']).stdout);
    assert.deepEqual(one.inputSize, [1, 3, 32, 32]);
    const b = runCli(['bench', 'resnext_tiny', '--input', '2,3,32,32', '--steps', '1', '--warmup', '0', '--json']);
    assert.equal(JSON.parse(b.stdout).batch, 2);
    const clash = runCli(['bench', 'resnext_tiny', '--input', '2,3,32,32', '--batch-size', '4']);
    assert.equal(clash.status, 2);
    assert.match(clash.stderr, /--input '2,3,32,32' has batch 2 but --batch-size is 4; give one of them/);
  });
  it('the old spelling --batch still works where it existed (bench, export)', () => {
    const r = runCli([
      'bench',
      'resnext_tiny',
      '--batch',
      '1',
      '--input',
      '3,32,32',
      '--steps',
      '1',
      '--warmup',
      '0',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).batch, 1);
  });
  it("commander's own errors are one line, named like ours", () => {
    const r = runCli(['summary', 'resnext50', '--bogus']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "resnext summary: unknown option '--bogus' (run with --help for usage)\n");
  });
});

describe('model-name suggestions (edit distance, case-insensitive, best first)', () => {
  const cases: [string, string][] = [
    ['resnext_smal', 'resnext_small'],
    ['resnext_medum', 'resnext_medium'],
    ['resnext29', 'resnext29_8x64d'],
    ['resnext101_32x8', 'resnext101_32x8d'],
    ['resnet200x', 'resnet200'],
    ['Resnet18', 'resnet18'],
    ['resnext5', 'resnext50'],
  ];
  for (const [typed, first] of cases) {
    it(`'${typed}' suggests '${first}' first`, () => {
      assert.throws(
        () => getVariant(typed),
        (e: Error) => new RegExp(`did you mean ${first}[,?]`).test(e.message),
      );
    });
  }
  it('weights for another registered model name it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rx-fit-'));
    saveSafetensors(join(dir, 'r18.safetensors'), createModel('resnet18', { seed: 0 }).stateDict());
    const r = runCli(['convert', join(dir, 'r18.safetensors'), join(dir, 'out.safetensors'), '--model', 'resnet34']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /does not fit model 'resnet34' — these weights fit 'resnet18': missing keys \(80\)/);
    assert.match(
      r.stderr,
      /^reading .*r18\.safetensors \(47 MB\)…\n/,
      'a large file is announced before the seconds it takes',
    );
    assert.ok(r.stderr.length < 400, `one short line: ${r.stderr.length} characters`);
  });
});

describe('resnext models', () => {
  it('filters by name or family, keeps lines short, shows the paper error where known', () => {
    const r = runCli(['models', 'resnext101']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(
      lines.slice(2).every((l) => l.startsWith('resnext101')),
      r.stdout,
    );
    assert.ok(
      lines.every((l) => l.length <= 100),
      'lines fit 100 columns without --long',
    );
    assert.match(r.stdout, /resnext101_64x4d .* 20\.4 \(ImageNet top-1\)/);
    assert.match(runCli(['models', 'tiny']).stdout, /128\.18 M/, 'small mult-adds in M, not 0.13 G');
    const none = runCli(['models', 'zzz']);
    assert.equal(none.status, 2);
  });
  it('--json lists every model with PyTorch-equal parameter counts', () => {
    const r = runCli(['models', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { name: string; params: number; multAddsPerImage: number }[];
    const fx = modelStatsFixture().models;
    assert.deepEqual(rows.map((m) => m.name).sort(), Object.keys(fx).sort());
    for (const m of rows) {
      assert.equal(m.params, fx[m.name].params, m.name);
      assert.equal(m.multAddsPerImage, fx[m.name].multAddsPerImage, m.name);
    }
  });
});

describe('resnext conv-params', () => {
  it("the tutorial's example: 73,728 vs 2,304 weights, 32x fewer", () => {
    const r = runCli(['conv-params', '64', '128', '3', '--groups', '32']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /64 x 128 x 3 x 3 = 73,728 weights/);
    assert.match(r.stdout, /32 x \(2 x 4 x 3 x 3\) = 64 x 4 x 3 x 3 = 2,304 weights/);
    assert.match(r.stdout, /by 32 \(the number of groups\)/);
    const j = JSON.parse(runCli(['conv-params', '128', '128', '3', '--groups', '32', '--json']).stdout);
    assert.equal(j.inPerGroup, 4);
    assert.equal(j.outPerGroup, 4);
  });
  it('channels not divisible by groups: exit 2 with the reason', () => {
    const r = runCli(['conv-params', '130', '128', '3', '--groups', '32']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Conv2d: in_channels 130 is not divisible by groups 32/);
    const z = runCli(['conv-params', '64', '128', '3', '--groups', '0']);
    assert.equal(z.status, 2);
    assert.match(z.stderr, /--groups must be a positive integer up to 2,147,483,647, got '0'/);
  });
});

describe('resnext paper', () => {
  it('prints Tables 1–4 and 7 with our figures beside the published ones', () => {
    const r = runCli(['paper']);
    assert.equal(r.status, 0, r.stderr);
    for (const t of ['Table 1', 'Table 2', 'Table 3', 'Table 4', 'Table 7']) assert.ok(r.stdout.includes(t), t);
    assert.match(r.stdout, /ResNeXt-29, 8x64d +resnext29_8x64d +34\.4 M +5\.39 G +34\.4 M/);
    assert.ok(!r.stdout.includes('top1At101'), 'no JSON key in the notes');
    const table4 = r.stdout.slice(r.stdout.indexOf('Table 4'), r.stdout.indexOf('Table 7'));
    assert.ok(!table4.includes('paper params') && !table4.includes('paper FLOPs'), 'no column the paper leaves empty');
    const j = JSON.parse(runCli(['paper', '--json']).stdout);
    const t4 = j.tables.find((t: { id: string }) => t.id === 'table4');
    assert.equal(t4.rows.find((row: { model: string }) => row.model === 'resnext101_64x4d').ours.params, 83_455_272);
  });
});

describe('resnext bench', () => {
  it("times steps and counts FLOPs from the model's mult-adds (PyTorch's count)", () => {
    const multAdds = modelStatsFixture().models.resnext_tiny.multAddsPerImage;
    for (const [mode, passes] of [
      ['inference', 1],
      ['train', 3],
    ] as const) {
      const r = runCli([
        'bench',
        'resnext_tiny',
        '--batch',
        '2',
        '--input',
        '3,32,32',
        '--steps',
        '2',
        '--warmup',
        '1',
        '--json',
        ...(mode === 'train' ? ['--train'] : []),
      ]);
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.mode, mode);
      assert.ok(j.minMs > 0 && j.minMs <= j.medianMs && j.medianMs <= j.maxMs);
      assert.ok(
        Math.abs(j.medianMs - (j.minMs + j.maxMs) / 2) < 1e-9,
        'the median of 2 steps is their mean, not the max',
      );
      assert.ok(Math.abs(j.imagesPerSecond - 2000 / j.medianMs) < 1e-9);
      // mult-adds scale with the pixel count of every layer's output: 32x32 is 1/49 of 224x224
      assert.ok(
        j.gflopPerImage > 0 && j.gflopPerImage < (2 * passes * multAdds) / 1e9 / 10,
        `${mode}: ${j.gflopPerImage}`,
      );
      assert.ok(Math.abs(j.gflopPerSecond - j.gflopPerImage * j.imagesPerSecond) < 1e-6);
    }
    const native = JSON.parse(
      runCli(['bench', 'resnext_tiny', '--batch', '1', '--steps', '1', '--warmup', '0', '--json']).stdout,
    );
    assert.ok(
      Math.abs(native.gflopPerImage - (2 * multAdds) / 1e9) < 1e-9,
      'at the native size: 2 FLOPs per PyTorch mult-add',
    );
    // an input too small to downsample: timed and counted, with the summary's warning
    const tiny = runCli([
      'bench',
      'resnext_tiny',
      '--input',
      '3,8,8',
      '--batch',
      '1',
      '--steps',
      '1',
      '--warmup',
      '0',
      '--json',
    ]);
    assert.equal(tiny.status, 0, tiny.stderr);
    assert.match(tiny.stderr, /warning: input \[1, 3, 8, 8\] is small for this network/);
    assert.ok(JSON.parse(tiny.stdout).gflopPerImage > 0);
  });
  it('rejects a bad --batch with exit code 2', () => {
    const r = runCli(['bench', 'resnext_tiny', '--batch', '0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--batch must be a positive integer/);
  });
});

describe('help', () => {
  for (const cmd of [[], ['summary'], ['models'], ['conv-params'], ['paper']]) {
    it(`resnext ${cmd.join(' ')} --help`, () => {
      const r = runCli([...cmd, '--help']);
      assert.equal(r.status, 0);
      assert.match(r.stdout, /Usage: resnext/);
    });
  }
  it('an unknown command exits 2', () => {
    const r = runCli(['bogus']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command 'bogus'/);
  });
});
