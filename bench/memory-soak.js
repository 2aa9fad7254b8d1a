#!/usr/bin/env node
// Memory soak: N training steps of a small ResNeXt on the active backend, printing resident memory
// every 100 steps; the check is that RSS after warm-up stays within 10%.
// Usage: node bench/memory-soak.js [--steps 1000] [--batch 16]
const r = require('../dist/src');
const { option } = require('./args');

const opt = (k, d) => Number(option(k, d));
const steps = opt('steps', 1000),
  batch = opt('batch', 16);
const model = r.createModel('resnext_small', { inChannels: 1, seed: 0 });
const { SGD } = require('../dist/src/train/optim');
const opt_ = new SGD(model.namedParameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
const x = r.randn([batch, 1, 28, 28]);
const y = Array.from({ length: batch }, (_, i) => i % 10);
const samples = [];
for (let s = 1; s <= steps; s++) {
  // as the trainer runs a step: kernel outputs are reused from one step to the next
  r.stepScope(model, opt_, () => {
    r.F.crossEntropy(model.call(x), y).backward();
    opt_.step();
    opt_.zeroGrad();
  });
  if (s % 100 === 0) {
    const rss = process.memoryUsage().rss / 2 ** 20;
    samples.push(rss);
    // the wasm backend's module memory (its arena grows to the largest call's need, then stays)
    const wasm =
      r.getDefaultBackend().name === 'wasm'
        ? `, wasm memory ${(require('../dist/src/backend/wasm').wasmKernels().memory.buffer.byteLength / 2 ** 20).toFixed(1)} MiB`
        : '';
    process.stdout.write(`step ${s}: rss ${rss.toFixed(1)} MiB${wasm}\n`);
  }
}
const warm = samples[1],
  last = samples[samples.length - 1],
  max = Math.max(...samples.slice(1));
const growth = (max - warm) / warm;
process.stdout.write(
  `${r.getDefaultBackend().name} backend: rss after warm-up ${warm.toFixed(1)} MiB, at the end ${last.toFixed(1)} MiB, peak ${max.toFixed(1)} MiB (${(100 * growth).toFixed(1)}% above warm-up)\n`,
);
process.exitCode = growth <= 0.1 ? 0 : 1;
