#!/usr/bin/env node
// onnxruntime-web timing (its WebAssembly backend, run in Node) of an ONNX model, inference:
// warm-up, then median / min / max per run. The peer of our wasm backend (bench/run.js --wasm).
// Usage: node bench/ort_web_bench.js model.onnx --batch 8 --threads 2 --steps 10 --warmup 2
const { option } = require('./args');

async function main() {
  const file = process.argv[2];
  const batch = Number(option('batch', 8)),
    threads = Number(option('threads', 2)),
    steps = Number(option('steps', 10)),
    warmup = Number(option('warmup', 2));
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const data = Float32Array.from({ length: batch * 3 * 224 * 224 }, (_, i) => Math.sin(i));
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [batch, 3, 224, 224]) };
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const times = [];
  for (let i = 0; i < steps; i++) {
    const t = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)];
  const { join } = require('node:path');
  const version = require(join(__dirname, '..', 'node_modules', 'onnxruntime-web', 'package.json')).version;
  process.stdout.write(
    `${JSON.stringify({ medianMs: med, minMs: times[0], maxMs: times[times.length - 1], imagesPerSecond: (1000 * batch) / med, ortWeb: version })}\n`,
  );
  process.exit(0); // its worker threads would keep the process alive
}
main().catch((e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
