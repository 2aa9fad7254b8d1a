// Backend selection: the native addon when built, the reference backend otherwise (with one
// warning), RESNEXT_BACKEND and --backend overrides, and `resnext doctor`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Backend } from '../src/backend/contract';
import { nativeBufferPool, nativeLayoutOf, nativeStatus } from '../src/backend/native';
import { loadAddon } from '../src/backend/native/addon';
import { BufferPool } from '../src/backend/buffer-pool';
import { referenceBackend, type FArray } from '../src/backend/reference';
import { getBackend } from '../src/backend/slot';
import { resolveConvGeometry } from '../src/tensor/ops/conv';
import { createModel } from '../src/models/registry';
import { randn } from '../src/tensor/create';
import * as F from '../src/tensor/ops';
import { Generator } from '../src/tensor/random';
import { SGD } from '../src/train/optim';
import { stepScope } from '../src/train/step-scope';
import { parseNpy } from '../src/io/npy';
import { assertClose, FIXTURES, ROOT, runCli } from './helpers';

const native = nativeStatus();
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(ROOT, 'bin', 'resnext.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });

describe('backend selection', () => {
  it('the native backend is built and active by default', {
    skip: !native.available && `native backend unavailable: ${native.reason}`,
  }, () => {
    const r = runCli(['doctor', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.activeBackend, 'native');
    assert.match(j.native.oneDNN, /^2\.6\./);
    assert.ok(j.native.threads >= 1);
  });
  it('--backend reference and RESNEXT_BACKEND=reference override it', () => {
    assert.equal(JSON.parse(runCli(['doctor', '--json', '--backend', 'reference']).stdout).activeBackend, 'reference');
    assert.equal(
      JSON.parse(cli(['doctor', '--json'], { RESNEXT_BACKEND: 'reference' }).stdout).activeBackend,
      'reference',
    );
    const bad = runCli(['doctor', '--backend', 'gpu']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown backend 'gpu'; available: native, wasm, reference, meta/);
    const badEnv = cli(['forward', 'resnext_tiny', '--weights', 'w', '--input', 'x', '--output', 'y.npy'], {
      RESNEXT_BACKEND: 'gpu',
    });
    assert.equal(badEnv.status, 2);
    assert.match(badEnv.stderr, /^resnext: RESNEXT_BACKEND=gpu: unknown backend 'gpu'/);
  });
  it('--threads on a backend without threads is an error, RESNEXT_THREADS a warning (never a silent no-op)', () => {
    const flag = runCli(['doctor', '--backend', 'reference', '--threads', '2']);
    assert.equal(flag.status, 2);
    assert.equal(
      flag.stderr,
      'resnext: --threads 2: the reference backend has no thread setting (it runs on one thread)\n',
    );
    const env = cli(['doctor', '--backend', 'reference'], { RESNEXT_THREADS: '2' });
    assert.equal(env.status, 0, env.stderr);
    assert.match(env.stderr, /warning: RESNEXT_THREADS=2 is ignored: the reference backend has no thread setting/);
  });
  it('doctor shows the wasm backend with SIMD and its threads; --threads sets them, out of range exits 2', () => {
    const j = JSON.parse(runCli(['doctor', '--json', '--backend', 'wasm', '--threads', '3']).stdout);
    assert.deepEqual(j.wasm, { available: true, reason: '', threads: 3, threadsAvailable: true, threadsReason: '' });
    assert.match(runCli(['doctor', '--backend', 'wasm', '--threads', '2']).stdout, /^wasm: SIMD128, 2 thread\(s\)/m);
    const bad = runCli(['doctor', '--backend', 'wasm', '--threads', '17']);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, 'resnext: wasm backend: threads must be an integer from 1 to 16, got 17\n');
  });
  it('without the addon: the wasm backend, one note (no warning), the same numbers', () => {
    const env = { RESNEXT_DISABLE_NATIVE: '1' };
    const d = cli(['doctor'], env);
    assert.match(d.stdout, /active backend: wasm/);
    assert.match(d.stdout, /native: unavailable — disabled by RESNEXT_DISABLE_NATIVE/);
    const out = join(require('node:os').tmpdir(), `rx-fallback-${process.pid}.npy`);
    const r = cli(
      [
        'forward',
        'resnext_tiny',
        '--weights',
        join(FIXTURES, 'small_tutorial.pth'),
        '--input',
        join(FIXTURES, 'small_tutorial.input.npy'),
        '--output',
        out,
        '--eval',
      ],
      env,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stderr.match(
        /note: the native backend is unavailable \(disabled by RESNEXT_DISABLE_NATIVE\); using the wasm backend/g,
      )?.length,
      1,
    );
    assert.doesNotMatch(r.stderr, /warning/);
    // PyTorch's logits for the same weights and input
    const want = parseNpy(readFileSync(join(FIXTURES, 'small_tutorial.logits.npy'))).toArray();
    assertClose(parseNpy(readFileSync(out)).toArray(), want, 1e-4, 'logits on wasm vs PyTorch');
    const forced = cli(['doctor', '--backend', 'native'], env);
    assert.equal(forced.status, 2);
    assert.match(forced.stderr, /the native backend is unavailable: disabled by RESNEXT_DISABLE_NATIVE/);
  });
});

describe('native inference layouts and buffer reuse', {
  skip: !native.available && `native backend unavailable: ${native.reason}`,
}, () => {
  it('fused convolutions and max pooling chain in blocked layouts; every other reader sees plain NCHW', () => {
    const nb = getBackend('native') as Backend<FArray>,
      k = nb.kernels,
      ref = referenceBackend.kernels;
    const gen = new Generator(4),
      f = (n: number) => Float32Array.from({ length: n }, () => gen.normal());
    const g1 = resolveConvGeometry([2, 16, 10, 10], [32, 16, 1, 1], {});
    const g2 = resolveConvGeometry([2, 32, 10, 10], [32, 8, 3, 3], { padding: 1, groups: 4 });
    const x = f(2 * 16 * 100),
      w1 = f(32 * 16),
      b1 = f(32),
      w2 = f(32 * 8 * 9),
      b2 = f(32);
    const y1 = k.conv2dFused(
      nb.fromValues('float32', x),
      nb.fromValues('float32', w1),
      nb.fromValues('float32', b1),
      null,
      true,
      g1,
    );
    assert.ok(nativeLayoutOf(y1) > 0, 'a 32-channel output is kept in a blocked layout');
    // blocked input and blocked residual
    const y2 = k.conv2dFused(y1, nb.fromValues('float32', w2), nb.fromValues('float32', b2), y1, true, g2);
    const r1 = ref.conv2dFused(x, w1, b1, null, true, g1),
      r2 = ref.conv2dFused(r1, w2, b2, r1, true, g2);
    assertClose(nb.read(y2), r2, 1e-4, 'read() of a blocked result');
    assertClose(nb.read(k.relu(y2)), ref.relu(r2), 1e-4, 'a plain kernel given a blocked input');
    assertClose(nb.read(y1), r1, 1e-4, 'the blocked intermediate');
    // a plain residual for a blocked output is reordered into the output's layout first
    const plainResidual = f(2 * 32 * 100);
    const y3 = k.conv2dFused(
      y1,
      nb.fromValues('float32', w2),
      nb.fromValues('float32', b2),
      nb.fromValues('float32', plainResidual),
      false,
      g2,
    );
    assertClose(
      nb.read(y3),
      ref.conv2dFused(r1, w2, b2, plainResidual, false, g2),
      1e-4,
      'blocked conv + plain residual',
    );
    // max pooling keeps a blocked input in its layout
    const pg = { n: 2, c: 32, h: 10, w: 10, oh: 5, ow: 5, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 };
    const pooled = k.maxPool2d(y1, pg);
    assert.ok(nativeLayoutOf(pooled) > 0, 'pooled output stays blocked');
    assertClose(nb.read(pooled), ref.maxPool2d(r1, pg), 1e-4, 'max pooling in the blocked layout');
  });
  it('grouped 3x3 convolutions in groups of 4 and 8 run in our kernel and equal the reference', () => {
    const nb = getBackend('native') as Backend<FArray>,
      ref = referenceBackend.kernels;
    const gen = new Generator(7),
      f = (n: number) => Float32Array.from({ length: n }, () => gen.normal());
    // widths cover the kernel's row segments (14, 7 and single pixels) and 1x1 maps; one input is blocked
    const cases: [n: number, c: number, groups: number, h: number, w: number][] = [
      [2, 32, 8, 9, 30],
      [1, 64, 8, 5, 21],
      [1, 16, 4, 1, 1],
      [3, 128, 32, 6, 15],
      [1, 256, 32, 4, 28],
    ];
    for (const [n, c, groups, h, w] of cases) {
      const wt = f(c * (c / groups) * 9),
        b = f(c);
      // one weight array across epilogues and batch sizes: each call finds its own plan
      const weight = nb.fromValues('float32', wt);
      for (const [batch, relu] of [
        [n, true],
        [n, false],
        [n + 1, true],
        [n, true],
      ] as const) {
        const g = resolveConvGeometry([batch, c, h, w], [c, c / groups, 3, 3], { padding: 1, groups });
        const x = f(batch * c * h * w);
        const y = nb.kernels.conv2dFused(
          nb.fromValues('float32', x),
          weight,
          nb.fromValues('float32', b),
          null,
          relu,
          g,
        );
        const what = `${c} channels in groups of ${c / groups} at ${h}x${w}, batch ${batch}, relu ${relu}`;
        assertClose(nb.read(y), ref.conv2dFused(x, wt, b, null, relu, g), 1e-4, what, 1e-5);
      }
    }
    // oneDNN runs no grouped convolution when ours applies, and runs it when switched back on
    const script = `const {getBackend} = require('./dist/src/index.js');
      const {resolveConvGeometry} = require('./dist/src/tensor/ops/conv');
      const nb = getBackend('native'), g = resolveConvGeometry([1, 32, 8, 8], [32, 4, 3, 3], {padding: 1, groups: 8});
      const t = (n) => nb.fromValues('float32', new Float32Array(n).fill(0.5));
      nb.read(nb.kernels.conv2dFused(t(32 * 64), t(32 * 36), t(32), null, true, g));`;
    const grouped = (env: NodeJS.ProcessEnv) => {
      const r = spawnSync(process.execPath, ['-e', script], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, ONEDNN_VERBOSE: '1', ...env },
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout
        .split('\n')
        .filter((l) => l.includes(',exec,') && l.includes('convolution') && l.includes('g8mb1'));
    };
    // built where the compiler targets AVX-512 (the addon is built with -march=native)
    const ours = native.groupedKernels?.includes('float32') ?? false;
    assert.equal(
      grouped({}).length,
      ours ? 0 : 1,
      ours ? 'our kernel, not oneDNN' : 'oneDNN: no AVX-512 build of ours',
    );
    assert.equal(grouped({ RESNEXT_ONEDNN_GROUPED_CONV: '1' }).length, 1, 'oneDNN with RESNEXT_ONEDNN_GROUPED_CONV');
  });

  it('a step scope recycles kernel outputs and never what is kept', () => {
    const pool = new BufferPool(),
      size = 1 << 17;
    pool.open();
    const kept = pool.take(size),
      dropped = pool.take(size),
      small = pool.take(16);
    pool.close(new Set([kept]));
    assert.equal(pool.idleElements(), size, 'only the dropped output is idle (small ones are never pooled)');
    pool.open();
    const again = pool.take(size);
    assert.equal(again, dropped);
    assert.notEqual(again, kept);
    assert.notEqual(pool.take(size), kept, 'a kept array is never handed out again');
    pool.close(new Set());
    assert.equal(small.length, 16);
    assert.throws(() => pool.close(new Set()), /close\(\) without open\(\)/);
  });
  it('release() recycles one output at once, once; arrays the scope did not hand out are ignored', () => {
    const pool = new BufferPool(),
      size = 1 << 17;
    pool.open();
    const a = pool.take(size);
    pool.release(a);
    pool.release(a);
    pool.release(new Float32Array(size));
    assert.equal(pool.idleElements(), size, 'a released once, the stranger not at all');
    assert.equal(pool.take(size), a, 'handed out again within the same scope');
    pool.close(new Set());
    assert.equal(pool.idleElements(), size, 'closing the scope does not return it twice');
    pool.open();
    pool.take(2 * size);
    pool.close(new Set());
    assert.equal(pool.idleElements(), 2 * size, 'a step of other shapes gives the old sizes back');
  });
  it('bench --train --profile reports memory: new outputs by kernel, the peak by producing kernel, peak RSS', () => {
    const args = ['bench', 'resnext_small', '--train', '--input', '1,28,28', '--batch-size', '64', '--steps', '2'];
    const text = runCli([...args, '--warmup', '1', '--profile']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /new outputs per step: [\d.]+ MiB, by kernel:\n {2}\w+/);
    const peak = /kernel outputs live in a step at most (\d+) MiB/.exec(text.stdout);
    const byKernel =
      /at the step's memory peak, (\d+) MiB of outputs were live, made by:\n {2}(?:conv2d|batchNorm)/.exec(text.stdout);
    assert.ok(peak && byKernel, text.stdout);
    assert.equal(byKernel[1], peak[1], 'the by-kernel rows add up to the peak');
    const json = runCli([...args, '--json']);
    const r = JSON.parse(json.stdout) as { peakRssMiB: number; peakStepMiB: number };
    assert.ok(r.peakRssMiB > 50 && r.peakStepMiB > 1 && r.peakStepMiB < r.peakRssMiB, json.stdout);
  });
  it('memory-saving training (gradients freed as consumed, ReLU and residual sums in place) is bit-identical to plain steps', () => {
    const nb = getBackend('native') as Backend<FArray>;
    const kernels = nb.kernels as unknown as Record<string, unknown>;
    // `saving` false: how a step ran before — every kernel output a fresh array, nothing in place
    const step = (name: 'resnext_small' | 'resnext_tiny', saving: boolean) => {
      const inPlace = { reluInPlace: kernels.reluInPlace, addInPlace: kernels.addInPlace };
      nativeBufferPool.enabled = saving;
      if (!saving) {
        kernels.reluInPlace = (x: FArray) => nb.kernels.relu(x);
        kernels.addInPlace = (a: FArray, b: FArray) => nb.kernels.addScaled(a, b, 1, 1);
      }
      try {
        const inChannels = name === 'resnext_small' ? 1 : 3,
          size = name === 'resnext_small' ? 28 : 64;
        const model = createModel(name, { inChannels, numClasses: 10, seed: 3, backend: nb });
        const opt = new SGD(model.namedParameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
        const x = randn([8, inChannels, size, size], { generator: new Generator(5), backend: nb });
        const y = [0, 1, 2, 3, 4, 5, 6, 7];
        const grads: number[][] = [];
        for (let s = 0; s < 3; s++) {
          stepScope(model, opt, () => {
            F.crossEntropy(model.call(x), y).backward();
            if (s === 2) for (const p of model.parameters()) grads.push(Array.from(nb.read(p.grad!.storage as FArray)));
            opt.step();
            opt.zeroGrad();
          });
        }
        const weights = [...model.stateDict().values()].map((t) => Array.from(nb.read(t.storage as FArray)));
        return { grads, weights };
      } finally {
        nativeBufferPool.enabled = true;
        Object.assign(kernels, inPlace);
      }
    };
    for (const name of ['resnext_small', 'resnext_tiny'] as const) {
      const fresh = step(name, false),
        reused = step(name, true);
      assert.ok(fresh.grads.length > 0);
      assert.deepEqual(reused.grads, fresh.grads, `${name}: gradients`);
      assert.deepEqual(reused.weights, fresh.weights, `${name}: weights and BatchNorm buffers`);
    }
  });
});

describe('every addon binding validates its arguments', {
  skip: !native.available && `native backend unavailable: ${native.reason}`,
}, () => {
  const addon = loadAddon().addon as unknown as Record<string, (...args: unknown[]) => unknown>;
  const names = Object.keys(addon).filter((n) => n !== 'info');
  it(`${names.length} bindings: no arguments, strings, or arrays of the wrong type or size throw an error (never a crash)`, () => {
    const junk: unknown[][] = [
      [],
      Array(14).fill('x'),
      Array(14).fill(new Float64Array(4)),
      [new Float32Array(3), ...Array(13).fill(new Float32Array(2))],
      Array(14).fill(-1),
    ];
    for (const name of names) {
      for (const args of junk) {
        assert.throws(() => addon[name](...args), /native|oneDNN/, `${name}(${args.map((a) => typeof a).join(', ')})`);
      }
    }
  });
});

describe('no silent fallback', { skip: !native.available && `native backend unavailable: ${native.reason}` }, () => {
  it('an argument error in a native kernel is thrown with the kernel name, not run on the reference backend', () => {
    const nb = getBackend('native') as Backend<FArray>,
      k = nb.kernels;
    const g = {
      n: 1,
      c: 4,
      h: 5,
      w: 5,
      o: 8,
      kh: 3,
      kw: 3,
      oh: 3,
      ow: 3,
      strideH: 1,
      strideW: 1,
      padH: 0,
      padW: 0,
      dilH: 1,
      dilW: 1,
      groups: 1,
    };
    const before = new Map(nb.fallbacks!());
    // x holds 10 elements where the geometry needs 100: the addon refuses it
    assert.throws(
      () => k.conv2d(new Float32Array(10), new Float32Array(8 * 4 * 9), null, g),
      /^Error: native conv2d: native: x has 10 elements, expected 100/,
    );
    assert.deepEqual(new Map(nb.fallbacks!()), before, 'no fallback counted');
  });
});
