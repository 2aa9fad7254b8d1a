#!/usr/bin/env node
// Training memory side by side: peak resident memory (and speed) of training steps, ours (native
// backend, `resnext bench --train`) vs PyTorch 1.13 eager (NCHW and channels_last,
// bench/torch_bench.py), each in a fresh process, same threads and input, in interleaved rounds.
// Every process's peak RSS is measured the same way, from outside, by GNU time (Debian's `time`).
// Cases: the tutorial's ResNeXt-50 at 224² batch 8 and 16, the Fashion-MNIST model at batch 128.
// `--baseline <checkout>` adds another build of ours (e.g. the commit before a change) to the rounds.
// Writes bench/MEMORY.md. Usage: node bench/memory.js [--threads 2] [--rounds 3] [--baseline dir]
const { spawnSync } = require('node:child_process');
const { existsSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { option } = require('./args');

const ROOT = join(__dirname, '..');
const threads = Number(option('threads', 2)),
  rounds = Number(option('rounds', 3)),
  baseline = option('baseline', null);
const CASES = [
  { model: 'resnext50', input: '3,224,224', batch: 8 },
  { model: 'resnext50', input: '3,224,224', batch: 16 },
  { model: 'resnext_small', input: '1,28,28', batch: 128 },
];
const env = { ...process.env, OMP_NUM_THREADS: String(threads) };

const TIME = '/usr/bin/time';
if (!existsSync(TIME)) throw new Error(`${TIME} not found: apt-get install -y time`);

/** Runs a measuring command: its JSON line, with the peak RSS GNU time saw (MiB). */
function run(cmd, args) {
  const r = spawnSync(TIME, ['-f', 'maxrss-kib %M', cmd, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  const text = r.stdout.trim();
  const peak = /maxrss-kib (\d+)/.exec(r.stderr);
  return { ...JSON.parse(text.slice(text.indexOf('{'))), peakRssMiB: Number(peak[1]) / 1024 };
}
// the same steps, threads and input for every runner; only the batch flag's name differs
const common = (c, batchFlag) => {
  const steps = ['--train', '--steps', '3', '--warmup', '1', '--threads', String(threads)];
  return ['--input', c.input, batchFlag, String(c.batch), ...steps];
};
const oursAt = (root) => (c) =>
  run(process.execPath, [join(root, 'bin', 'resnext.js'), 'bench', c.model, ...common(c, '--batch-size'), '--json']);
const torch = (extra) => (c) =>
  run('/usr/bin/python3', [join(__dirname, 'torch_bench.py'), '--model', c.model, ...common(c, '--batch'), ...extra]);
const RUNNERS = [
  ['ours', oursAt(ROOT)],
  ...(baseline ? [['ours before', oursAt(baseline)]] : []),
  ['PyTorch NCHW', torch([])],
  ['PyTorch channels_last', torch(['--channels-last'])],
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const results = CASES.map(() => new Map(RUNNERS.map(([name]) => [name, { rss: [], ips: [] }])));
for (let round = 1; round <= rounds; round++) {
  for (const [i, c] of CASES.entries()) {
    for (const [name, measure] of RUNNERS) {
      const r = measure(c);
      const slot = results[i].get(name);
      slot.rss.push(r.peakRssMiB);
      slot.ips.push(r.imagesPerSecond);
      process.stderr.write(
        `round ${round}: ${c.model} batch ${c.batch} ${name}: ${r.peakRssMiB.toFixed(0)} MiB, ${r.imagesPerSecond.toFixed(2)} img/s\n`,
      );
    }
  }
}
const lines = [
  '# Training memory: peak resident memory of the process, ours vs PyTorch',
  '',
  `\`node bench/memory.js --threads ${threads} --rounds ${rounds}${baseline ? ' --baseline <checkout>' : ''}\`, ${new Date().toISOString().slice(0, 10)}: ` +
    `each figure the median of ${rounds} fresh processes (1 warm-up + 3 training steps: forward, cross-entropy, backward, SGD ` +
    'with momentum), run in interleaved rounds. Peak RSS includes the runtime itself (Node + addon, or Python + libtorch).',
  '',
  `| case | ${RUNNERS.map(([n]) => `${n} MiB`).join(' | ')} | ours / best PyTorch | ${RUNNERS.map(([n]) => `${n} img/s`).join(' | ')} |`,
  `|---|${RUNNERS.map(() => '---:').join('|')}|---:|${RUNNERS.map(() => '---:').join('|')}|`,
];
for (const [i, c] of CASES.entries()) {
  const m = new Map([...results[i]].map(([n, v]) => [n, { rss: median(v.rss), ips: median(v.ips) }]));
  const best = Math.min(m.get('PyTorch NCHW').rss, m.get('PyTorch channels_last').rss);
  lines.push(
    `| ${c.model} ${c.input.replaceAll(',', 'x')} batch ${c.batch} | ${RUNNERS.map(([n]) => m.get(n).rss.toFixed(0)).join(' | ')} | ` +
      `${(m.get('ours').rss / best).toFixed(2)} | ${RUNNERS.map(([n]) => m.get(n).ips.toFixed(2)).join(' | ')} |`,
  );
}
const text = `${lines.join('\n')}\n`;
writeFileSync(join(__dirname, 'MEMORY.md'), text);
process.stdout.write(text);
