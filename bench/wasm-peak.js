#!/usr/bin/env node
// The wasm peak probe: f32x4 multiply-add throughput of one thread in this runtime (16 independent
// mul+add chains, as bench/peak-flops.cc does for FMA), so wasm timings can be stated as a fraction
// of what wasm can do here. Plain SIMD128 has no fused multiply-add: a mul and an add per lane.
// Usage: node bench/wasm-peak.js [--rounds 5]
require('../dist/src');
const { wasmKernels } = require('../dist/src/backend/wasm');
const { option } = require('./args');

const rounds = Number(option('rounds', 5)),
  iters = 20_000_000;
const k = wasmKernels();
k.madd_probe(1_000_000); // warm-up: tier-up to optimised code
const rates = [];
for (let r = 0; r < rounds; r++) {
  const t = process.hrtime.bigint();
  k.madd_probe(iters);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  rates.push((iters * 12 * 4 * 2) / s / 1e9);
}
rates.sort((a, b) => a - b);
process.stdout.write(
  `wasm SIMD128 mul+add peak, 1 thread: ${rates[Math.floor(rounds / 2)].toFixed(1)} GFLOP/s ` +
    `(median of ${rounds}; ${rates.map((x) => x.toFixed(1)).join(', ')})\n`,
);
