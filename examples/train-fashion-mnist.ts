// Trains resnext_tiny on a slice of the official Fashion-MNIST for one epoch with the library's
// training loop, then evaluates it. Run: npm run build && node dist/examples/train-fashion-mnist.js [outDir]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFashionMnist, TRAIN_DEFAULTS, train, type TrainConfig } from '../src/index';

async function main(): Promise<void> {
  const out = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'resnext-example-'));
  // `resnext train`'s defaults, with a short run's size, Nesterov momentum and a slice of the data
  const config: TrainConfig = {
    ...TRAIN_DEFAULTS,
    model: 'resnext_tiny',
    data: 'fashion-mnist',
    epochs: 1,
    batchSize: 64,
    lr: 0.05,
    nesterov: true,
    limitTrain: 2048,
    limitTest: 500,
    prefetch: 1,
  };
  const { records } = await train(config, loadFashionMnist(), out, { resume: false, overwrite: true });
  const last = records[records.length - 1];
  console.log(
    `test top-1 after ${last.epoch} epoch: ${(100 * last.testTop1).toFixed(1)}% (weights in ${out}/model.safetensors)`,
  );
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exitCode = 1;
});
