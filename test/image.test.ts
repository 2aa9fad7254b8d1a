// Image preprocessing against torchvision's transforms, feature extraction, and `resnext predict`.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { embedImages, IMAGENET_PREPROCESSING, loadImage } from '../src/data/image';
import { IMAGENET_CLASSES } from '../src/data/imagenet-classes';
import { loadNpy, saveSafetensors } from '../src/io/load-save';
import { createModel } from '../src/models/registry';
import { assertClose, FIXTURES, runCli } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'rx-img-'));
const solid = (file: string, w: number, h: number, rgb: [number, number, number], format: 'png' | 'jpeg' | 'webp') =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    [format]({ quality: 100, lossless: format === 'webp' } as object)
    .toFile(join(dir, file));

describe("torchvision's ImageNet preprocessing", () => {
  it('equals torchvision exactly when no resize is needed (320x256 → crop 224)', async () => {
    const ours = await loadImage(join(FIXTURES, 'pattern_320x256.png'));
    assert.deepEqual(ours.shape, [3, 224, 224]);
    assertClose(ours.toArray(), loadNpy(join(FIXTURES, 'pattern_320x256.expected.npy')).toArray(), 1e-6, 'pixels');
  });
  it('equals torchvision exactly after a bilinear downscale (400x300 → 341x256, PIL-exact resampling)', async () => {
    const ours = await loadImage(join(FIXTURES, 'pattern_400x300.png'));
    assertClose(ours.toArray(), loadNpy(join(FIXTURES, 'pattern_400x300.expected.npy')).toArray(), 1e-6, 'pixels');
  });
  it("greyscale models see PIL's convert('L'): (200, 30, 40) → 82, (10, 250, 3) → 150", async () => {
    const grey = { resize: 28, crop: 28, channels: 1 as const, mean: [0], std: [1] };
    for (const [rgb, want] of [
      [[200, 30, 40], 82],
      [[10, 250, 3], 150],
    ] as const) {
      await solid('g.png', 40, 30, [...rgb], 'png');
      const t = (await loadImage(join(dir, 'g.png'), grey)).toArray();
      assert.ok(
        t.every((v) => Math.abs(v * 255 - want) < 1e-3),
        `${rgb} gave ${t[0] * 255}, PIL gives ${want}`,
      );
    }
  });
  it('known content: a solid colour becomes (c/255 − mean)/std everywhere, from PNG, JPEG and WebP', async () => {
    await solid('c.png', 300, 260, [200, 30, 40], 'png');
    await solid('c.webp', 260, 300, [200, 30, 40], 'webp');
    for (const f of ['c.png', 'c.webp']) {
      const t = (await loadImage(join(dir, f))).toArray();
      [200, 30, 40].forEach((v, c) => {
        const want = (v / 255 - IMAGENET_PREPROCESSING.mean[c]) / IMAGENET_PREPROCESSING.std[c];
        for (let i = c * 224 * 224; i < (c + 1) * 224 * 224; i += 997)
          assert.ok(Math.abs(t[i] - want) < 1e-5, `${f} channel ${c}`);
      });
    }
  });
  it('grayscale and RGBA images become 3-channel RGB', async () => {
    await sharp({ create: { width: 256, height: 256, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } })
      .png()
      .toFile(join(dir, 'rgba.png'));
    await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 90, g: 90, b: 90 } } })
      .toColourspace('b-w')
      .png()
      .toFile(join(dir, 'gray.png'));
    for (const f of ['rgba.png', 'gray.png']) assert.deepEqual((await loadImage(join(dir, f))).shape, [3, 224, 224]);
  });
  it('an unreadable image names the file', async () => {
    writeFileSync(join(dir, 'broken.jpg'), Buffer.from('not really a jpeg'));
    await assert.rejects(loadImage(join(dir, 'broken.jpg')), /broken\.jpg: cannot decode image/);
    await assert.rejects(loadImage(join(dir, 'missing.png')), /missing\.png: cannot decode image/);
  });
});

describe('feature extraction and resnext predict', () => {
  const weights = join(dir, 'tiny1000.safetensors');
  saveSafetensors(weights, createModel('resnext_tiny', { seed: 2 }).stateDict());
  it('embedImages gives the pooled features the classifier sees', async () => {
    await solid('e.jpg', 256, 256, [10, 200, 10], 'jpeg');
    const model = createModel('resnext_tiny', { seed: 2 });
    const f = await embedImages(model, [join(dir, 'e.jpg'), join(FIXTURES, 'pattern_320x256.png')]);
    assert.deepEqual(f.shape, [2, 128]);
    assert.ok(f.toArray().every(Number.isFinite));
  });
  it('prints top-k ImageNet class names; --json and --features', async () => {
    await solid('p.jpg', 320, 240, [250, 250, 250], 'jpeg');
    const images = [join(dir, 'p.jpg'), join(FIXTURES, 'pattern_400x300.png')];
    const r = runCli(['predict', 'resnext_tiny', '--weights', weights, ...images, '--top', '3']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 8);
    assert.equal(lines[0], images[0]);
    assert.match(lines[1], /^ {3}1 +\d+\.\d\d% {2}.+ \(\d+\)$/);
    const j = JSON.parse(
      runCli([
        'predict',
        'resnext_tiny',
        '--weights',
        weights,
        ...images,
        '--top',
        '5',
        '--json',
        '--features',
        join(dir, 'f.npy'),
      ]).stdout,
    );
    for (const p of j) {
      assert.equal(p.top.length, 5);
      for (const t of p.top) assert.equal(t.label, IMAGENET_CLASSES[t.index]);
      assert.ok(
        p.top.every((t: { probability: number }, i: number) => i === 0 || t.probability <= p.top[i - 1].probability),
      );
    }
    assert.deepEqual(loadNpy(join(dir, 'f.npy')).shape, [2, 128]);
  });
  it('an image that cannot be decoded: exit 2, the file named', () => {
    writeFileSync(join(dir, 'bad.png'), readFileSync(join(FIXTURES, 'pattern_320x256.png')).subarray(0, 40));
    const r = runCli(['predict', 'resnext_tiny', '--weights', weights, join(dir, 'bad.png')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad\.png: cannot decode image/);
  });
});
