// Train → eval → predict round trips: the weights a run writes carry their input size, channels,
// normalisation and class names, and eval and predict use them (model file or checkpoint alike).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { noGrad } from '../src/autograd/engine';
import { FASHION_MNIST_CLASSES } from '../src/data/fashion-mnist';
import { loadFashionMnist } from '../src/data/fashion-mnist-files';
import { decodeImage } from '../src/data/image';
import { loadImageFolder } from '../src/data/image-folder';
import { readWeightsFile } from '../src/io/load-save';
import { createModel } from '../src/models/registry';
import { tensor } from '../src/tensor/create';
import * as F from '../src/tensor/ops';
import { runCli } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'rx-round-'));

describe('Fashion-MNIST: train, then eval and predict on what it wrote', () => {
  const out = join(dir, 'fm');
  it('trains a small run', () => {
    const r = runCli([
      'train',
      'resnext_tiny',
      '--data',
      'fashion-mnist',
      '--epochs',
      '1',
      '--limit-train',
      '512',
      '--limit-test',
      '64',
      '--batch-size',
      '64',
      '--out',
      out,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /training resnext_tiny \([\d,]+ parameters\) on fashion-mnist: 512 train \/ 64 test images, batch 64 \(8 steps per epoch\)/,
    );
  });
  it('eval reads the model file and the checkpoint alike, with the normalisation the run used', () => {
    const args = (w: string) => [
      'eval',
      'resnext_tiny',
      '--weights',
      join(out, w),
      '--data',
      'fashion-mnist',
      '--limit-test',
      '64',
      '--json',
    ];
    const a = runCli(args('model.safetensors')),
      b = runCli(args('checkpoint.safetensors'));
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    assert.equal(JSON.parse(a.stdout).top1, JSON.parse(b.stdout).top1);
    assert.deepEqual(JSON.parse(a.stdout).classes, [...FASHION_MNIST_CLASSES]);
  });
  it('inspect and summary --weights read what the run recorded', () => {
    const i = runCli(['inspect', join(out, 'checkpoint.safetensors'), '--json']);
    assert.equal(i.status, 0, i.stderr);
    const j = JSON.parse(i.stdout);
    assert.equal(j.usage.model, 'resnext_tiny');
    assert.deepEqual([j.usage.input.channels, j.usage.input.size], [1, 28]);
    assert.deepEqual(j.usage.classes, [...FASHION_MNIST_CLASSES]);
    assert.deepEqual([j.run.epoch, j.run.step], [1, 8]);
    assert.deepEqual(j.fits, ['resnext_tiny']);
    const s = runCli(['summary', 'resnext_tiny', '--weights', join(out, 'model.safetensors'), '--json']);
    assert.equal(s.status, 0, s.stderr);
    assert.deepEqual(JSON.parse(s.stdout).inputSize, [1, 1, 28, 28]);
  });
  it('convert turns the checkpoint into a model file that keeps the recorded usage', () => {
    const r = runCli(['convert', join(out, 'checkpoint.safetensors'), join(dir, 'from-ckpt.safetensors')]);
    assert.equal(r.status, 0, r.stderr);
    const a = readWeightsFile(join(dir, 'from-ckpt.safetensors')),
      b = readWeightsFile(join(out, 'model.safetensors'));
    assert.deepEqual([...a.tensors.keys()], [...b.tensors.keys()]);
    assert.deepEqual(a.usage, b.usage);
  });
  it('export writes an ONNX graph for the 1x28x28 input the run trained on', () => {
    const r = runCli([
      'export',
      'resnext_tiny',
      '--weights',
      join(out, 'model.safetensors'),
      '--onnx',
      join(dir, 'fm.onnx'),
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /input 'input' \[batch, 1, 28, 28\]/);
  });
  it('predict feeds 28x28 greyscale images as trained and names Fashion-MNIST classes', async () => {
    const test = loadFashionMnist().test;
    const paths: string[] = [];
    for (let i = 0; i < 6; i++) {
      const p = join(dir, `fm${i}.png`);
      await sharp(Buffer.from(test.images.subarray(i * 784, (i + 1) * 784)), {
        raw: { width: 28, height: 28, channels: 1 },
      })
        .png()
        .toFile(p);
      paths.push(p);
    }
    const r = runCli([
      'predict',
      'resnext_tiny',
      '--weights',
      join(out, 'model.safetensors'),
      ...paths,
      '--top',
      '3',
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const results = JSON.parse(r.stdout) as { top: { index: number; label: string }[] }[];
    // the same images through the library: the stored normalisation, the model's argmax
    const w = readWeightsFile(join(out, 'model.safetensors'));
    const { mean, std } = w.usage.input!;
    const model = createModel('resnext_tiny', { numClasses: 10, inChannels: 1 });
    model.loadStateDict(w.tensors);
    model.eval();
    const x = tensor(
      Float32Array.from(test.images.subarray(0, 6 * 784), (v) => (v / 255 - mean[0]) / std[0]),
      [6, 1, 28, 28],
    );
    const expected = noGrad(() => F.topk(model.call(x), 1)).indices.map((row) => row[0]);
    assert.deepEqual(
      results.map((p) => p.top[0].index),
      expected,
    );
    for (const p of results) assert.equal(p.top[0].label, FASHION_MNIST_CLASSES[p.top[0].index]);
  });
});

describe('an image folder: class names travel with the weights', () => {
  it('predict says circle or square, eval reports no top-5 for 2 classes', async () => {
    const data = join(dir, 'shapes'),
      out = join(dir, 'shapes-run');
    const svg = (shape: string) =>
      Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="white"/>${shape}</svg>`,
      );
    for (const [cls, shape] of [
      ['circle', '<circle cx="20" cy="20" r="12" fill="black"/>'],
      ['square', '<rect x="8" y="8" width="24" height="24" fill="black"/>'],
    ]) {
      mkdirSync(join(data, cls), { recursive: true });
      for (let i = 0; i < 10; i++)
        await sharp(svg(shape))
          .rotate(i * 9, { background: 'white' })
          .png()
          .toFile(join(data, cls, `${i}.png`));
    }
    const t = runCli([
      'train',
      'resnext_tiny',
      '--data',
      `folder:${data}`,
      '--epochs',
      '2',
      '--batch-size',
      '6',
      '--image-size',
      '32',
      '--out',
      out,
    ]);
    assert.equal(t.status, 0, t.stderr);
    const p = runCli([
      'predict',
      'resnext_tiny',
      '--weights',
      join(out, 'model.safetensors'),
      join(data, 'circle', '0.png'),
      '--json',
    ]);
    assert.equal(p.status, 0, p.stderr);
    const top = JSON.parse(p.stdout)[0].top as { index: number; label: string; probability: number }[];
    assert.equal(top.length, 2, 'top-k capped at the 2 classes');
    assert.deepEqual(top.map((c) => c.label).sort(), ['circle', 'square']);
    // predict decodes exactly as the dataset did: the same probabilities from the dataset's own bytes
    const ds = await loadImageFolder(data, 32);
    const all = [ds.train, ds.test].flatMap((d) =>
      Array.from(d.labels, (_, i) => d.images.subarray(i * 3072, (i + 1) * 3072)),
    );
    const bytes = await decodeImage(join(data, 'circle', '0.png'), { resize: 32, crop: 32 });
    assert.ok(
      all.some((img) => Buffer.from(img).equals(Buffer.from(bytes))),
      'the dataset holds the very bytes predict decodes',
    );
    const w = readWeightsFile(join(out, 'model.safetensors'));
    const { mean, std } = w.usage.input!;
    const model = createModel('resnext_tiny', { numClasses: 2 });
    model.loadStateDict(w.tensors);
    model.eval();
    const x = tensor(
      Float32Array.from(bytes, (v, i) => (v / 255 - mean[Math.floor(i / 1024)]) / std[Math.floor(i / 1024)]),
      [1, 3, 32, 32],
    );
    const probs = noGrad(() => F.softmax(model.call(x))).toArray();
    assert.ok(
      Math.abs(probs[top[0].index] - top[0].probability) < 1e-5,
      `${probs[top[0].index]} vs ${top[0].probability}`,
    );
    const e = runCli([
      'eval',
      'resnext_tiny',
      '--weights',
      join(out, 'checkpoint.safetensors'),
      '--data',
      `folder:${data}`,
      '--json',
    ]);
    assert.equal(e.status, 0, e.stderr);
    assert.equal(JSON.parse(e.stdout).top5, null);
  });
});
