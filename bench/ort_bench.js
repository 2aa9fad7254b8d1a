#!/usr/bin/env node
// onnxruntime-node timing of an ONNX model (inference): warm-up, then median / min / max per run.
// Usage: node bench/ort_bench.js model.onnx --batch 8 --threads 2 --steps 10 --warmup 2
const ort = require('onnxruntime-node');

async function main() {
  const [file, ...rest] = process.argv.slice(2);
  const arg = (k, d) => {
    const i = rest.indexOf(`--${k}`);
    return i >= 0 ? Number(rest[i + 1]) : d;
  };
  const batch = arg('batch', 8),
    threads = arg('threads', 2),
    steps = arg('steps', 10),
    warmup = arg('warmup', 2);
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
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
  process.stdout.write(
    `${JSON.stringify({ medianMs: med, minMs: times[0], maxMs: times[times.length - 1], imagesPerSecond: (1000 * batch) / med, ort: require('onnxruntime-node/package.json').version })}\n`,
  );
}
main().catch((e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
