#!/usr/bin/env node
// onnxruntime timing of an ONNX model (inference): onnxruntime-node, or with --web onnxruntime-web's
// WebAssembly backend run in Node (the wasm backend's peer); warm-up, then median / min / max per run.
// Usage: node bench/ort_bench.js model.onnx [--web] --batch 8 --threads 2 --steps 10 --warmup 2
const { join } = require('node:path');
const { option } = require('./args');

/** An inference session of `file` on `threads` threads, and the runtime's name and version. */
async function open(file, web, threads) {
  if (web) {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = threads;
    const session = await ort.InferenceSession.create(file, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    // its package.json is not in its exports map
    const version = require(join(__dirname, '..', 'node_modules', 'onnxruntime-web', 'package.json')).version;
    return { ort, session, version: { ortWeb: version } };
  }
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  return { ort, session, version: { ort: require('onnxruntime-node/package.json').version } };
}

async function main() {
  const file = process.argv[2];
  const batch = Number(option('batch', 8)),
    threads = Number(option('threads', 2)),
    steps = Number(option('steps', 10)),
    warmup = Number(option('warmup', 2));
  const { ort, session, version } = await open(file, process.argv.includes('--web'), threads);
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
  process.stdout.write(
    `${JSON.stringify({ medianMs: med, minMs: times[0], maxMs: times[times.length - 1], imagesPerSecond: (1000 * batch) / med, ...version })}\n`,
  );
  process.exit(0); // onnxruntime-web's worker threads would keep the process alive
}
main().catch((e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
