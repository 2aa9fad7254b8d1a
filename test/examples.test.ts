// The runnable examples in examples/ (compiled with the rest): each runs and prints what it promises.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { saveSafetensors } from '../src/io/load-save';
import { createModel } from '../src/models/registry';
import { collapse, FIXTURES, GOLDEN, ROOT, runCli } from './helpers';

const run = (example: string, args: string[] = []) =>
  spawnSync(process.execPath, [join(ROOT, 'dist', 'examples', `${example}.js`), ...args], {
    encoding: 'utf8',
    timeout: 240_000,
  });

describe('examples/', () => {
  it('summary.ts prints the golden table and the grouped-conv arithmetic', () => {
    const r = run('summary');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(collapse(r.stdout).startsWith(collapse(readFileSync(GOLDEN, 'utf8'))));
    assert.match(r.stdout, /Conv2d\(64, 128, 3\): 73728 weights; with groups=32: 2304/);
  });
  it('train-fashion-mnist.ts trains one epoch well above chance', () => {
    const r = run('train-fashion-mnist', [mkdtempSync(join(tmpdir(), 'rx-ex-'))]);
    assert.equal(r.status, 0, r.stderr);
    const top1 = Number(/test top-1 after 1 epoch: ([\d.]+)%/.exec(r.stdout)?.[1]);
    assert.ok(top1 > 30, r.stdout);
  });
  it('low-precision.ts runs bf16 and int8 next to float32 and writes an int8 file inspect reads', () => {
    const q = join(mkdtempSync(join(tmpdir(), 'rx-ex-')), 'q.safetensors');
    const r = run('low-precision', [q]);
    assert.equal(r.status, 0, r.stderr);
    const agree = (p: string) => Number(new RegExp(`${p} agrees with float32 on (\\d+) of 32`).exec(r.stdout)?.[1]);
    assert.ok(agree('bf16') >= 30 && agree('int8') >= 28, r.stdout);
    assert.match(r.stdout, /13 convolutions in int8/);
    const inspect = runCli(['inspect', q, '--json']);
    assert.equal(inspect.status, 0, inspect.stderr);
    const d = JSON.parse(inspect.stdout);
    assert.match(d.format, /int8 model file \(resnext quantize\): 13 convolutions in int8/);
    assert.deepEqual(d.fits, ['resnext_small']);
  });
  it('classify.ts labels an image with ImageNet classes', () => {
    const w = join(mkdtempSync(join(tmpdir(), 'rx-ex-')), 'r18.safetensors');
    saveSafetensors(w, createModel('resnet18', { seed: 0 }).stateDict());
    const r = run('classify', ['resnet18', w, join(FIXTURES, 'pattern_320x256.png')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /pattern_320x256\.png: .+ [\d.]+%, .+ [\d.]+%, .+ [\d.]+%/);
  });
});
