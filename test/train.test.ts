// Training: optimizers against PyTorch, schedules, the data pipeline, exact resume after SIGINT
// and SIGKILL, and input errors (overfitting a tiny subset is overfit.test.ts, portable).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { subset } from '../src/data/dataset';
import { parseFashionMnistSplit } from '../src/data/fashion-mnist';
import { FASHION_MNIST_DEBIAN_DIR, loadFashionMnist } from '../src/data/fashion-mnist-files';
import { parseIdxGz } from '../src/data/idx';
import { DataLoader } from '../src/data/loader';
import { loadSafetensors } from '../src/io/load-save';
import { Parameter } from '../src/nn/parameter';
import { tensor } from '../src/tensor/create';
import { AdamW, SGD, type Optimizer } from '../src/train/optim';
import { TRAIN_DEFAULTS } from '../src/train/recipe';
import { learningRate } from '../src/train/schedule';
import { train, type TrainConfig } from '../src/train/trainer';
import { assertClose, FIXTURES, ROOT, runCli } from './helpers';

describe('optimizers match torch.optim over three steps', () => {
  const fx = loadSafetensors(join(FIXTURES, 'optim.safetensors'));
  const cases: [string, (p: [string, Parameter][]) => Optimizer][] = [
    ['sgd_nesterov', (p) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-2 })],
    ['sgd_dampening', (p) => new SGD(p, { lr: 0.1, momentum: 0.9, dampening: 0.1 })],
    ['sgd_plain', (p) => new SGD(p, { lr: 0.1, weightDecay: 1e-2 })],
    ['adamw', (p) => new AdamW(p, { lr: 1e-2, weightDecay: 0.05 })],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      const p = new Parameter(tensor(fx.get('p0')!.toArray(), [5, 3])); // a copy: the step updates it in place
      const opt = make([['w', p]]);
      for (let i = 0; i < 3; i++) {
        p.grad = tensor(fx.get(`grad${i}`)!.toArray(), [5, 3]);
        opt.step();
        assertClose(p.toArray(), fx.get(`${name}.step${i}`)!.toArray(), 1e-6, `${name} step ${i}`);
      }
    });
  }
  it('no weight decay on 1-D (BatchNorm, bias) parameters by default', () => {
    const w = new Parameter(tensor([1, 1], [1, 2])),
      b = new Parameter(tensor([1], [1]));
    w.grad = tensor([0, 0], [1, 2]);
    b.grad = tensor([0], [1]);
    new SGD(
      [
        ['w', w],
        ['b', b],
      ],
      { lr: 1, weightDecay: 0.5 },
    ).step();
    assert.deepEqual(Array.from(w.toArray()), [0.5, 0.5]);
    assert.deepEqual(Array.from(b.toArray()), [1]);
  });
});

describe('learning-rate schedules', () => {
  const base = { baseLr: 0.1, stepsPerEpoch: 10, totalEpochs: 10 };
  it('linear warm-up then cosine to zero', () => {
    const o = { ...base, kind: 'cosine' as const, warmupEpochs: 1 };
    assert.ok(Math.abs(learningRate(o, 0) - 0.01) < 1e-12);
    assert.ok(Math.abs(learningRate(o, 9) - 0.1) < 1e-12);
    assert.ok(Math.abs(learningRate(o, 10) - 0.1) < 1e-12);
    assert.ok(Math.abs(learningRate(o, 55) - 0.05) < 1e-12, 'half way through the cosine');
    assert.ok(learningRate(o, 99) < 1e-3);
  });
  it('step and multistep', () => {
    assert.ok(Math.abs(learningRate({ ...base, kind: 'step', stepEpochs: 3 }, 65) - 0.1 * 0.1 ** 2) < 1e-12);
    assert.ok(Math.abs(learningRate({ ...base, kind: 'multistep', milestones: [2, 5] }, 49) - 0.01) < 1e-12);
    assert.ok(Math.abs(learningRate({ ...base, kind: 'multistep', milestones: [2, 5] }, 50) - 0.001) < 1e-12);
  });
});

describe('Fashion-MNIST and the data pipeline', () => {
  const data = loadFashionMnist();
  it('60,000 train / 10,000 test images, 6,000 / 1,000 per class, 1x28x28', () => {
    assert.equal(data.train.labels.length, 60000);
    assert.equal(data.test.labels.length, 10000);
    for (let c = 0; c < 10; c++) assert.equal(data.test.labels.filter((l) => l === c).length, 1000);
    assert.deepEqual(data.train.shape, [1, 28, 28]);
  });
  it('is the official split: every official test image (with its label) in test, none in train', () => {
    // read the official files independently of the library: Node's zlib, the idx layout by hand
    const official = (name: string) => gunzipSync(readFileSync(join(FASHION_MNIST_DEBIAN_DIR, `${name}.gz`)));
    const testImages = official('t10k-images-idx3-ubyte'),
      testLabels = official('t10k-labels-idx1-ubyte');
    const key = (img: Uint8Array, label: number) => `${label}:${Buffer.from(img).toString('base64')}`;
    const keys = (d: typeof data.test) =>
      new Set(Array.from(d.labels, (l, i) => key(d.images.subarray(i * 784, (i + 1) * 784), l)));
    const ours = keys(data.test),
      train = keys(data.train);
    for (let i = 0; i < 10000; i++) {
      const k = key(testImages.subarray(16 + i * 784, 16 + (i + 1) * 784), testLabels[8 + i]);
      assert.ok(ours.has(k), `official test image ${i} is missing from the test split`);
      assert.ok(!train.has(k), `official test image ${i} is in the train split`);
    }
  });
  it("the page's subset (web/data/fashion-mnist) is the official images and labels at ⌊i·N/n⌋", () => {
    const sub = loadFashionMnist(join(ROOT, 'web', 'data', 'fashion-mnist'));
    assert.equal(sub.train.name, 'fashion-mnist/train[2000]');
    for (const [ours, full, n] of [
      [sub.train, data.train, 2000],
      [sub.test, data.test, 500],
    ] as const) {
      assert.equal(ours.labels.length, n);
      const picked = subset(full, n);
      assert.deepEqual(ours.labels, picked.labels);
      assert.deepEqual(ours.images, picked.images);
    }
  });
  it('a subset file is read up to the official count; more images, unequal labels or a lying trailer are refused', () => {
    const idx = (dims: number[], fill = 0) => {
      const h = Buffer.alloc(4 + 4 * dims.length);
      h.writeUInt32BE(0x0800 + dims.length, 0);
      for (const [i, d] of dims.entries()) h.writeUInt32BE(d, 4 + 4 * i);
      return Buffer.concat([
        h,
        Buffer.alloc(
          dims.reduce((a, b) => a * b, 1),
          fill,
        ),
      ]);
    };
    const file = (name: string, b: Buffer) => ({ name, bytes: gzipSync(b) });
    const ok = parseFashionMnistSplit('test', file('i.gz', idx([3, 28, 28])), file('l.gz', idx([3], 9)));
    assert.deepEqual([ok.name, ok.labels.length], ['fashion-mnist/test[3]', 3]);
    assert.throws(
      () => parseFashionMnistSplit('test', file('i.gz', idx([10001, 28, 28])), file('l.gz', idx([10001]))),
      /i\.gz.*(more than|expected \[1\.\.10000, 28, 28\])/,
    );
    assert.throws(
      () => parseFashionMnistSplit('test', file('i.gz', idx([3, 28, 28])), file('l.gz', idx([4]))),
      /l\.gz has 4 labels for the 3 images of i\.gz/,
    );
    assert.throws(
      () => parseFashionMnistSplit('test', file('i.gz', idx([3, 28, 28])), file('l.gz', idx([3], 10))),
      /label 0 is 10, expected 0\.\.9/,
    );
    const lying = gzipSync(idx([2, 28, 28]));
    lying.writeUInt32LE(1 << 30, lying.length - 4);
    assert.throws(
      () => parseIdxGz(lying, [10000, 28, 28], 'big.gz', { countUpTo: true }),
      /big\.gz.*gzip trailer says 1073741824 bytes/,
    );
  });
  it('batches are the same with and without the worker thread, and from a mid-epoch start', async () => {
    const ds = subset(data.train, 600);
    const t = { randomCropPadding: 4, horizontalFlip: true, mean: [0.3], std: [0.35] };
    const collect = async (prefetch: number, start: number) => {
      const l = new DataLoader(ds, { batchSize: 64, shuffle: true, seed: 3, dropLast: false, transform: t, prefetch });
      const out: number[][] = [];
      for await (const b of l.epoch(2, start))
        out.push([b.index, b.y.length, ...Array.from(b.x.toArray().subarray(0, 50)), ...b.y]);
      await l.close();
      return out;
    };
    const inline = await collect(0, 0);
    assert.equal(inline.length, 10, 'keeps the last partial batch');
    assert.equal(inline[9][1], 600 - 9 * 64);
    assert.deepEqual(await collect(2, 0), inline);
    assert.deepEqual(await collect(2, 4), inline.slice(4));
  });
});

/** A short run: `resnext train`'s defaults with a small model, batch, learning rate and data slice. */
function config(over: Partial<TrainConfig>): TrainConfig {
  return {
    ...TRAIN_DEFAULTS,
    model: 'resnext_tiny',
    data: 'fashion-mnist',
    epochs: 3,
    batchSize: 32,
    lr: 0.05,
    seed: 1,
    limitTrain: 256,
    limitTest: 64,
    prefetch: 1,
    ...over,
  };
}

describe('checkpoints and exact resume', () => {
  const data = loadFashionMnist();
  const root = mkdtempSync(join(tmpdir(), 'rx-train-'));
  const weights = (dir: string) => readFileSync(join(dir, 'model.safetensors'));
  it('stopping after any step and resuming gives the same final weights and log as an uninterrupted run', async () => {
    const full = join(root, 'full'),
      cut = join(root, 'cut');
    await train(config({}), data, full, { resume: false });
    let steps = 0;
    const first = await train(config({}), data, cut, { resume: false, shouldStop: () => ++steps === 13 }); // mid-epoch 2 of 3
    assert.equal(first.stopped, true);
    await train(config({}), data, cut, { resume: true });
    assert.ok(weights(cut).equals(weights(full)), 'identical model.safetensors');
    const strip = (f: string) =>
      readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const r = JSON.parse(l);
          delete r.seconds;
          delete r.imagesPerSecond;
          return r;
        });
    assert.deepEqual(strip(join(cut, 'metrics.jsonl')), strip(join(full, 'metrics.jsonl')));
  });
  // one short run of the CLI, the same for the full run, the cut one and its resumption
  const trainArgs = (out: string) => [
    'train',
    'resnext_tiny',
    '--data',
    'fashion-mnist',
    '--epochs',
    '3',
    '--batch-size',
    '32',
    '--lr',
    '0.05',
    '--limit-train',
    '256',
    '--limit-test',
    '64',
    '--seed',
    '1',
    '--out',
    out,
  ];
  const runTrain = (out: string, extra: string[] = []) =>
    spawn(process.execPath, [join(ROOT, 'bin', 'resnext.js'), ...trainArgs(out), ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const waitFor = (p: ReturnType<typeof spawn>, text: string) =>
    new Promise<void>((resolve) => {
      let seen = '';
      p.stdout!.on('data', (d) => {
        seen += d;
        if (seen.includes(text)) resolve();
      });
    });
  const exit = (p: ReturnType<typeof spawn>) =>
    new Promise<number | null>((resolve) => p.on('exit', (code, signal) => resolve(signal ? -1 : code)));
  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    it(`the CLI killed with ${signal} mid-run resumes to the same final weights`, { timeout: 120_000 }, async () => {
      const full = join(root, 'cli-full'),
        cut = join(root, `cli-${signal}`);
      if (signal === 'SIGINT') assert.equal(await exit(runTrain(full)), 0);
      const p = runTrain(cut);
      await waitFor(p, 'epoch 1/3');
      p.kill(signal);
      const code = await exit(p);
      assert.equal(code, signal === 'SIGINT' ? 130 : -1);
      const r = runCli([...trainArgs(cut), '--resume']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /resuming resnext_tiny at epoch/);
      assert.ok(weights(cut).equals(weights(join(root, 'cli-full'))));
    });
  }
});

describe('bad input: clear errors, exit code 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rx-bad-'));
  const cases: [string, string[], RegExp][] = [
    [
      'missing dataset folder',
      ['--data', `cifar10:${join(dir, 'nope')}`],
      /CIFAR-10: folder '.*nope' does not exist; put the CIFAR-10 binary version/,
    ],
    ['unknown dataset', ['--data', 'mnist'], /unknown dataset 'mnist'/],
    [
      'a misspelt dataset',
      ['--data', 'fashion_mnist'],
      /unknown dataset 'fashion_mnist'; did you mean fashion-mnist\?/,
    ],
    ['CIFAR without its folder', ['--data', 'cifar10'], /--data cifar10 needs a folder: cifar10:<dir>/],
    [
      'bad --lr',
      ['--data', 'fashion-mnist', '--lr', 'fast'],
      /--lr must be a positive number such as 0\.1 or 5e-4, got 'fast'/,
    ],
    ['a zero --lr', ['--data', 'fashion-mnist', '--lr', '0'], /--lr must be a positive number/],
    [
      'a batch larger than the data',
      ['--data', 'fashion-mnist', '--limit-train', '64', '--batch-size', '128'],
      /fashion-mnist\/train\[64 of 60000\]: its 64 images make no full batch of 128; use a smaller --batch-size \(at most 64\)/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const r = runCli(['train', 'resnext_tiny', '--out', join(dir, 'o'), ...args]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, message);
    });
  }
  it('a CIFAR file of the wrong size', () => {
    const c = join(dir, 'cifar');
    mkdirSync(c);
    for (let i = 1; i <= 5; i++) writeFileSync(join(c, `data_batch_${i}.bin`), Buffer.alloc(100));
    const r = runCli(['train', 'resnext_tiny', '--data', `cifar10:${c}`, '--out', join(dir, 'o')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /data_batch_1\.bin' is 100 bytes, expected 30730000 \(10000 records of 3073 bytes\)/);
  });
  it('an image folder with an undecodable image: skipped with a warning, training runs', async () => {
    const f = join(dir, 'imgs');
    for (const [cls, rgb] of [
      ['red', [220, 20, 20]],
      ['blue', [20, 20, 220]],
    ] as const) {
      mkdirSync(join(f, cls), { recursive: true });
      for (let i = 0; i < 10; i++)
        await sharp({
          create: { width: 40, height: 36, channels: 3, background: { r: rgb[0] + i, g: rgb[1], b: rgb[2] } },
        })
          .png()
          .toFile(join(f, cls, `${i}.png`));
    }
    writeFileSync(join(f, 'red', 'broken.jpg'), 'not an image');
    const r = runCli([
      'train',
      'resnext_tiny',
      '--data',
      `folder:${f}`,
      '--epochs',
      '1',
      '--batch-size',
      '6',
      '--image-size',
      '32',
      '--out',
      join(dir, 'fo'),
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: skipped 1 image\(s\) that could not be decoded: .*broken\.jpg/);
    assert.match(r.stdout, /epoch 1\/1/);
  });
  it('--resume with a checkpoint for a different model', () => {
    const out = join(dir, 'run');
    assert.equal(
      runCli([
        'train',
        'resnext_tiny',
        '--data',
        'fashion-mnist',
        '--epochs',
        '1',
        '--limit-train',
        '64',
        '--limit-test',
        '32',
        '--batch-size',
        '32',
        '--out',
        out,
      ]).status,
      0,
    );
    const r = runCli([
      'train',
      'resnext_small',
      '--data',
      'fashion-mnist',
      '--epochs',
      '2',
      '--limit-train',
      '64',
      '--limit-test',
      '32',
      '--batch-size',
      '32',
      '--out',
      out,
      '--resume',
    ]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /checkpoint is for model 'resnext_tiny' with 10 classes, not 'resnext_small'/);
    const e = runCli([
      'eval',
      'resnext_tiny',
      '--weights',
      join(out, 'model.safetensors'),
      '--data',
      'fashion-mnist',
      '--limit-test',
      '32',
      '--json',
    ]);
    assert.equal(e.status, 0, e.stderr);
    assert.equal(JSON.parse(e.stdout).confusion.length, 10);
  });
});
