// `resnext quantize` and --precision end to end: an int8 model file that forward, eval and predict
// run; the warning and float32 on hardware (or a backend) without fast bf16/int8 kernels; usage
// errors with exit code 2.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { noGrad } from '../src/autograd/engine';
import { nativeStatus } from '../src/backend/native';
import { getBackend } from '../src/backend/slot';
import { loadNpy, saveNpy, saveSafetensors } from '../src/io/load-save';
import { createModel } from '../src/models/registry';
import { randn } from '../src/tensor/create';
import { Generator } from '../src/tensor/random';
import { assertClose, cosine, FIXTURES, runCli } from './helpers';

const native = nativeStatus();

describe('resnext quantize and --precision', {
  skip: !native.available && `native backend unavailable: ${native.reason}`,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'rx-precision-'));
  const w = join(dir, 'w.safetensors'),
    q = join(dir, 'q.safetensors'),
    x = join(dir, 'x.npy');
  const fast = () => getBackend('native').fastPrecisions?.() ?? { bf16: false, int8: false, hardware: '' };
  const forward = (weights: string, out: string, ...extra: string[]) =>
    runCli(['forward', 'resnext_small', '--weights', weights, '--input-npy', x, '--output', join(dir, out), ...extra]);

  before(() => {
    // batch-norm statistics moved off their initial values by one training-mode pass
    const m = createModel('resnext_small', { seed: 0 });
    const input = randn([8, 3, 32, 32], { generator: new Generator(2) });
    m.train();
    noGrad(() => m.call(input));
    saveSafetensors(w, m.stateDict());
    saveNpy(x, input);
  });

  it('quantize writes an int8 model file a quarter the size', () => {
    const r = runCli(['quantize', 'resnext_small', '--weights', w, '--calibrate', x, '--out', q]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /quantised 13 convolutions of resnext_small to int8, calibrated on 8 images/);
    assert.ok(statSync(q).size < 0.4 * statSync(w).size, `${statSync(q).size} vs ${statSync(w).size} bytes`);
  });

  it('forward --eval runs the int8 file in int8 by default, and float32 (dequantised) on request', () => {
    assert.equal(forward(w, 'fp32.npy', '--eval').status, 0);
    const r = forward(q, 'int8.npy', '--eval');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(forward(q, 'deq.npy', '--eval', '--precision', 'fp32').status, 0);
    const fp32 = loadNpy(join(dir, 'fp32.npy')).toArray(),
      int8 = loadNpy(join(dir, 'int8.npy')).toArray(),
      deq = loadNpy(join(dir, 'deq.npy')).toArray();
    assert.ok(cosine(int8, fp32) > 0.99, `int8 vs float32 cosine ${cosine(int8, fp32)}`);
    assert.ok(cosine(deq, fp32) > 0.999, `dequantised vs float32 cosine ${cosine(deq, fp32)}`);
    if (fast().int8) assert.notDeepEqual(int8, deq, 'int8 arithmetic ran, not the dequantised float32 network');
  });

  it('bf16 runs where the CPU has AVX-512 BF16; with ONEDNN_MAX_CPU_ISA below it: a warning and float32', () => {
    const fp32 = loadNpy(join(dir, 'fp32.npy')).toArray();
    const r = forward(w, 'bf16.npy', '--eval', '--precision', 'bf16');
    assert.equal(r.status, 0, r.stderr);
    const bf16 = loadNpy(join(dir, 'bf16.npy')).toArray();
    assert.ok(cosine(bf16, fp32) > 0.999, `bf16 vs float32 cosine ${cosine(bf16, fp32)}`);
    if (fast().bf16) assert.notDeepEqual(bf16, fp32);
    const env = { ...process.env, ONEDNN_MAX_CPU_ISA: 'AVX512_CORE' };
    const slow = runCli(
      [
        'forward',
        'resnext_small',
        '--weights',
        w,
        '--input-npy',
        x,
        '--output',
        join(dir, 'b.npy'),
        '--eval',
        '--precision',
        'bf16',
      ],
      { env },
    );
    assert.equal(slow.status, 0, slow.stderr);
    assert.match(
      slow.stderr,
      /--precision bf16: this CPU \(oneDNN ISA [^)]+\) lacks AVX-512 BF16.*; running float32 instead/,
    );
    // float32 ran (kernels for another ISA: equal up to summation order)
    assertClose(loadNpy(join(dir, 'b.npy')).toArray(), fp32, 1e-4, 'float32 instead of bf16');
    const slowInt8 = runCli(
      ['forward', 'resnext_small', '--weights', q, '--input-npy', x, '--output', join(dir, 'i.npy'), '--eval'],
      { env: { ...process.env, ONEDNN_MAX_CPU_ISA: 'AVX2' } },
    );
    assert.equal(slowInt8.status, 0, slowInt8.stderr);
    assert.match(
      slowInt8.stderr,
      /--precision int8: this CPU \(oneDNN ISA [^)]+\) lacks AVX-512 VNNI.*running the int8 weights dequantised in float32 instead/,
    );
    assertClose(
      loadNpy(join(dir, 'i.npy')).toArray(),
      loadNpy(join(dir, 'deq.npy')).toArray(),
      1e-4,
      'dequantised float32',
    );
  });

  it('the wasm backend says it has no bf16 kernels and runs float32', () => {
    const r = runCli([
      '--backend',
      'wasm',
      'bench',
      'resnext_small',
      '--batch-size',
      '2',
      '--steps',
      '1',
      '--warmup',
      '0',
      '--precision',
      'bf16',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /--precision bf16: the wasm backend has no bf16 kernels; running float32 instead/);
  });

  it('calibrates on a folder of images, preprocessed as predict does', () => {
    const images = join(dir, 'images', 'any');
    mkdirSync(images, { recursive: true });
    copyFileSync(join(FIXTURES, 'pattern_320x256.png'), join(images, 'a.png'));
    copyFileSync(join(FIXTURES, 'pattern_400x300.png'), join(images, 'b.png'));
    const r = runCli([
      'quantize',
      'resnext_small',
      '--weights',
      w,
      '--calibrate',
      join(dir, 'images'),
      '--out',
      join(dir, 'qi.safetensors'),
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /calibrated on 2 images/);
    const p = runCli([
      'predict',
      'resnext_small',
      '--weights',
      join(dir, 'qi.safetensors'),
      join(images, 'a.png'),
      '--json',
    ]);
    assert.equal(p.status, 0, p.stderr);
    assert.equal(JSON.parse(p.stdout)[0].top.length, 5);
  });

  const refusals: [string, () => string[], RegExp][] = [
    [
      '--precision int8 with float32 weights',
      () => ['eval', 'resnext_small', '--weights', w, '--data', 'fashion-mnist', '--precision', 'int8'],
      /--precision int8 needs int8 weights, and .*w\.safetensors holds float32 ones; make them with `resnext quantize resnext_small/,
    ],
    [
      'bf16 without --eval in forward',
      () => [
        'forward',
        'resnext_small',
        '--weights',
        w,
        '--input-npy',
        x,
        '--output',
        join(dir, 'o.npy'),
        '--precision',
        'bf16',
      ],
      /--precision bf16 runs inference only; add --eval/,
    ],
    [
      'an unknown precision',
      () => ['predict', 'resnext_small', '--weights', w, 'a.png', '--precision', 'fp16'],
      /--precision must be one of fp32, bf16, int8, got 'fp16'/,
    ],
    [
      'quantising an int8 file',
      () => ['quantize', 'resnext_small', '--weights', q, '--calibrate', x, '--out', join(dir, 'qq.safetensors')],
      /is already an int8 model file/,
    ],
    [
      'a calibration folder without images',
      () => [
        'quantize',
        'resnext_small',
        '--weights',
        w,
        '--calibrate',
        join(dir, 'empty'),
        '--out',
        join(dir, 'qe.safetensors'),
      ],
      /--calibrate .*empty: no images/,
    ],
    [
      '--precision with --train in bench',
      () => ['bench', 'resnext_small', '--train', '--precision', 'int8'],
      /--precision int8 times inference only; drop --train/,
    ],
  ];
  for (const [what, args, message] of refusals) {
    it(`refuses ${what}: exit 2, one line`, () => {
      mkdirSync(join(dir, 'empty'), { recursive: true });
      const r = runCli(args());
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});
