// Learning, wherever the library runs: on every backend with data, resnext_tiny overfits 64
// Fashion-MNIST images (the page's shipped subset, first 64) to 100% training accuracy — it fails when
// gradients are wrong. Portable (the run's set-up, batches and steps the page and `resnext train`
// use), so the browser suite (browser-suites.test.ts) runs it in headless Chromium too.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadableBackends } from '../src/backend/node';
import { getDefaultBackend, setDefaultBackend } from '../src/backend/slot';
import { Batches } from '../src/data/batches';
import { subset } from '../src/data/dataset';
import { fashionMnistFileNames, parseFashionMnistSplit } from '../src/data/fashion-mnist';
import { getVariant } from '../src/models/registry';
import { trainStep } from '../src/train/evaluate';
import { prepareRun, TRAIN_DEFAULTS } from '../src/train/recipe';
import { learningRate } from '../src/train/schedule';
import { ROOT } from './helpers';

const SUBSET = join(ROOT, 'web', 'data', 'fashion-mnist');

describe('learning', () => {
  const names = fashionMnistFileNames('train');
  const read = (base: string) => ({ name: `${base}.gz`, bytes: readFileSync(join(SUBSET, `${base}.gz`)) });
  const images = subset(parseFashionMnistSplit('train', read(names.images), read(names.labels)), 64);
  for (const backend of loadableBackends().filter((b) => b.hasData)) {
    it(`overfits 64 images to 100% training accuracy on the ${backend.name} backend (fails when gradients are wrong)`, {
      timeout: 120_000,
    }, async () => {
      const before = getDefaultBackend();
      setDefaultBackend(backend);
      try {
        const recipe = { ...TRAIN_DEFAULTS, epochs: 25, batchSize: 32, augment: false, optimizer: 'adamw' as const };
        const run = prepareRun({ ...recipe, lr: 3e-3, weightDecay: 0, seed: 1 }, getVariant('resnext_tiny'), images);
        const batches = new Batches(images, run.trainBatches);
        const schedule = run.schedule(batches.numBatches());
        const byEpoch: { loss: number; acc: number }[] = [];
        let step = 0;
        for (let epoch = 0; epoch < recipe.epochs; epoch++) {
          run.model.train();
          let loss = 0,
            correct = 0;
          for await (const b of batches.epoch(epoch)) {
            run.optimizer.lr = learningRate(schedule, step++);
            const r = trainStep(run.model, run.optimizer, b.x, b.y, { labelSmoothing: 0, failure: (v) => `loss ${v}` });
            loss += r.loss * b.y.length;
            correct += r.correct;
          }
          byEpoch.push({ loss: loss / images.labels.length, acc: correct / images.labels.length });
        }
        const last = byEpoch[byEpoch.length - 1];
        assert.equal(last.acc, 1, `train accuracy by epoch: ${byEpoch.map((r) => r.acc.toFixed(2)).join(' ')}`);
        assert.ok(last.loss < 0.05, `last epoch's loss ${last.loss}`);
      } finally {
        setDefaultBackend(before);
      }
    });
  }
});
