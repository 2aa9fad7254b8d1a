// `resnext bench <model>`: time inference or training steps on the active backend — warm-up, then
// median / min / max per step and images per second.
import type { Command } from 'commander';
import { noGrad } from '../autograd/engine';
import { formatPeakByKernel, formatProfile, profileBackend } from '../backend/profile';
import { getDefaultBackend } from '../backend/slot';
import { createModel, modelName } from '../models/registry';
import { randn } from '../tensor/create';
import * as F from '../tensor/ops';
import { Generator } from '../tensor/random';
import { SGD } from '../train/optim';
import { stepScope } from '../train/step-scope';
import { checkInput, parseInputShape } from './model-options';
import type { BenchJson } from './json-output';
import {
  addBatchSizeOption,
  batchSizeOption,
  guarded,
  parseNonNegativeInt,
  parsePositiveInt,
  printJson,
  UsageError,
} from './util';
import { prepareForInference } from '../nn/inference';
import { calibrate, quantizeModel } from '../nn/quantize';
import { parsePrecision, runnablePrecision } from './precision';

/** Registers the bench command. */
export function registerBench(program: Command): void {
  addBatchSizeOption(program.command('bench <model>'), 'images per step', '8')
    .description('time inference (or training) steps: median / min / max per step and images per second')
    .option('--input <shape>', "C,H,W (or N,C,H,W) (default: the model's native size)")
    .option('--train', 'time training steps: forward, cross-entropy, backward, SGD with momentum')
    .option('--steps <n>', 'timed steps', '10')
    .option('--warmup <n>', 'untimed steps first', '2')
    .option('--profile', 'also time every kernel call and print where the step time goes')
    .option('--json', 'print as JSON')
    .option(
      '--precision <p>',
      'inference in fp32, bf16 or int8 (int8: quantised after calibrating on the benchmark input) (default: fp32)',
    )
    .addHelpText('after', '\nExample:\n  resnext bench resnext50 --batch-size 8 --train --threads 2')
    .action(
      guarded(
        'bench',
        (
          name: string,
          o: {
            batchSize: string;
            batch?: string;
            input?: string;
            train?: boolean;
            steps: string;
            warmup: string;
            json?: boolean;
            profile?: boolean;
            precision?: string;
          },
          cmd: Command,
        ) => {
          const b = batchSizeOption(o, cmd);
          const [batch, ...chw] = parseInputShape(name, o.input, {
            size: parsePositiveInt(b.flag, b.text),
            flag: b.flag,
            explicit: b.explicit,
          });
          const steps = parsePositiveInt('--steps', o.steps);
          const warmup = parseNonNegativeInt('--warmup', o.warmup);
          const counted = checkInput(name, [batch, ...chw]);
          const requested = parsePrecision(o.precision) ?? 'fp32';
          if (o.train && requested !== 'fp32')
            throw new UsageError(`--precision ${requested} times inference only; drop --train`);
          const model = createModel(modelName(name), { seed: 0, inChannels: chw[0] });
          const x = randn([batch, ...chw], { generator: new Generator(1) });
          const precision = runnablePrecision(requested, getDefaultBackend());
          // int8: calibrated on the benchmark's own input, as the PyTorch peer in bench/ is
          const quantized = precision === 'int8' ? quantizeModel(model, calibrate(model, [x])) : undefined;
          prepareForInference(model, { precision, quantized });
          const targets = Array.from({ length: batch }, (_, i) => i % model.fc.outFeatures);
          const opt = new SGD(model.namedParameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
          const step = o.train
            ? () => {
                model.train();
                stepScope(model, opt, () => {
                  F.crossEntropy(model.call(x), targets).backward();
                  opt.step();
                  opt.zeroGrad();
                });
              }
            : () => {
                model.eval();
                stepScope(model, null, () => noGrad(() => model.call(x)).toArray());
              };
          for (let i = 0; i < warmup; i++) step();
          const times: number[] = [];
          const backend = getDefaultBackend();
          const profile = o.profile ? profileBackend(backend) : null;
          const fallbacksBefore = new Map(backend.fallbacks?.() ?? []);
          backend.bufferScope?.resetPeak?.();
          for (let i = 0; i < steps; i++) {
            const t = process.hrtime.bigint();
            step();
            times.push(Number(process.hrtime.bigint() - t) / 1e6);
          }
          profile?.stop();
          const pool = backend.bufferScope?.stats?.();
          // kernels the backend declined during the timed steps and handed to the reference backend
          const fallbacks = [...(backend.fallbacks?.() ?? [])]
            .map(([k, n]): [string, number] => [k, n - (fallbacksBefore.get(k) ?? 0)])
            .filter(([, n]) => n > 0);
          const sorted = [...times].sort((a, b) => a - b),
            mid = sorted.length / 2;
          // the middle value, or the mean of the middle two for an even count (2 steps: not the max)
          const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
          const imagesPerSecond = (1000 * batch) / median;
          const gflopPerImage = (2 * (counted.totals.totalMultAdds / batch) * (o.train ? 3 : 1)) / 1e9;
          const r: BenchJson = {
            model: name,
            backend: backend.name,
            mode: o.train ? 'train' : 'inference',
            precision,
            batch,
            input: chw,
            steps,
            medianMs: median,
            minMs: sorted[0],
            maxMs: sorted[sorted.length - 1],
            imagesPerSecond,
            gflopPerImage,
            gflopPerSecond: imagesPerSecond * gflopPerImage,
            // the process's peak resident memory so far (warm-up included): what decides the largest batch
            peakRssMiB: process.resourceUsage().maxRSS / 1024,
            ...(pool ? { peakStepMiB: pool.peakLiveBytes / 2 ** 20 } : {}),
            ...(profile ? { fallbacks: Object.fromEntries(fallbacks) } : {}),
          };
          if (o.json) {
            printJson(r);
            return;
          }
          if (profile) {
            process.stdout.write(`${formatProfile(profile.rows(), steps)}\n`);
            process.stdout.write(
              `memory: peak resident ${r.peakRssMiB.toFixed(0)} MiB` +
                (pool
                  ? `; kernel outputs live in a step at most ${(pool.peakLiveBytes / 2 ** 20).toFixed(0)} MiB, ` +
                    `${(pool.idleBytes / 2 ** 20).toFixed(0)} MiB idle in the buffer pool between steps`
                  : '') +
                '\n' +
                formatPeakByKernel(pool?.peakByKernel ?? {}),
            );
            process.stdout.write(
              fallbacks.length
                ? `ran on the reference backend instead (declined by ${backend.name}): ${fallbacks.map(([k, n]) => `${k} ×${n}`).join(', ')}\n`
                : `every kernel call ran on the ${backend.name} backend (no fallback to reference)\n`,
            );
          }
          process.stdout.write(
            `${name} ${r.mode}${precision === 'fp32' ? '' : ` (${precision})`}, batch ${batch}, ${chw.join('x')}, ${r.backend} backend: median ${median.toFixed(1)} ms ` +
              `(min ${r.minMs.toFixed(1)}, max ${r.maxMs.toFixed(1)}) over ${steps} steps, ${r.imagesPerSecond.toFixed(2)} images/s, ` +
              `${r.gflopPerSecond.toFixed(1)} GFLOP/s\n`,
          );
        },
      ),
    );
}
