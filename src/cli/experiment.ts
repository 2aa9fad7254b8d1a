// `resnext experiment cardinality|complexity`: the paper's claim at small scale — every arm of a
// family trained with one recipe on paired seeds, resumable, then a table, runs.json and plots.
import type { Command } from 'commander';
import { getDefaultBackend } from '../backend/slot';
import { loadDataset } from '../data/load';
import { closestNames } from '../models/suggest';
import { writeExperimentReport } from '../train/experiment-report';
import { FAMILIES, checkFamily, familyCosts, runExperiment } from '../train/experiment';
import { formatDuration } from './progress';
import { guarded, parseNonNegativeInt, parseNumber, parsePositiveInt, stopOnCtrlC, UsageError } from './util';

/** Defaults sized for this machine (2 cores): see the help text for the measured budget. */
const DEFAULTS = {
  cardinality: { epochs: '3', limitTrain: '15000', limitTest: '0', warmupEpochs: '0' },
  complexity: { epochs: '2', limitTrain: '8000', limitTest: '4000', warmupEpochs: '0.5' },
} as const;

/** Registers the experiment command. */
export function registerExperiment(program: Command): void {
  program
    .command('experiment <kind>')
    .description("reproduce the paper's claim at small scale: cardinality (Table 3) or complexity (Table 4)")
    .option(
      '--data <spec>',
      'any dataset train takes: fashion-mnist | cifar10:<dir> | cifar100:<dir> | folder:<dir>',
      'fashion-mnist',
    )
    .option('--epochs <n>', 'epochs per run (default: cardinality 3, complexity 2)')
    .option('--seeds <n>', 'seeds per arm, 0…n−1, paired across arms', '5')
    .option('--limit-train <n>', 'use N training images (0: all; default: cardinality 15000, complexity 8000)')
    .option('--limit-test <n>', 'use N test images (0: all; default: cardinality all, complexity 4000)')
    .option('--warmup-epochs <x>', 'linear learning-rate warm-up (default: cardinality 0, complexity 0.5)')
    .option('--batch-size <n>', 'images per step', '128')
    .option('--lr <x>', 'peak learning rate (SGD, Nesterov momentum 0.9, cosine schedule, weight decay 5e-4)', '0.1')
    .option(
      '--out <dir>',
      'output folder: runs/<arm>/seed-<k>/, runs.json, results.md, error.png, curves.png',
      'runs/experiment',
    )
    .addHelpText(
      'after',
      `
Families: the paper's bottleneck template at a quarter of its width (3x3 stem of 16, three
stages of two bottlenecks, outputs 64/128/256, stride 2 on the 3x3 conv), arms named as in the
paper (C groups of d at the 64-wide template; stage 1 has C groups of d/4 channels):
  cardinality  1x64d, 2x40d, 4x24d, 8x14d (Table 3): parameters and mult-adds within ±3% of
               each other (a family outside the band is refused)
  complexity   base 1x64d, and at about twice its cost (within ±5% of each other): deeper
               (4 blocks per stage), wider 1x100d, more groups 2x64d (Table 4)

Budget (measured here, native backend, each experiment on 1 thread, the two side by side on the
2 cores): the default cardinality run (4 arms × 5 seeds × 3 epochs of 15,000 images) took 1 h 27 min;
the default complexity run (4 arms × 5 seeds × 2 epochs of 8,000 images) 49 min.
Runs resume after an interruption (Ctrl-C stops after the current step; run the same command
again); a finished run is never redone. Each run is reproducible with the same thread count.

Example:
  resnext experiment cardinality --out docs/experiments/cardinality`,
    )
    .action(
      guarded('experiment', async (kind: string, o: Record<string, string | undefined>) => {
        if (!(kind in FAMILIES)) {
          const close = closestNames(kind, Object.keys(FAMILIES));
          throw new UsageError(
            `unknown experiment '${kind}'${close.length ? `; did you mean ${close[0]}?` : ''} (expected cardinality or complexity)`,
          );
        }
        const name = kind as keyof typeof FAMILIES;
        const family = FAMILIES[name]();
        const epochs = parsePositiveInt('--epochs', o.epochs ?? DEFAULTS[name].epochs);
        const seedCount = parsePositiveInt('--seeds', o.seeds ?? '5');
        if (seedCount < 2)
          throw new UsageError(`--seeds must be at least 2 (paired confidence intervals need two), got ${seedCount}`);
        const limitTrain = parseNonNegativeInt('--limit-train', o.limitTrain ?? DEFAULTS[name].limitTrain);
        const limitTest = parseNonNegativeInt('--limit-test', o.limitTest ?? DEFAULTS[name].limitTest);
        const batchSize = parsePositiveInt('--batch-size', o.batchSize ?? '128');
        const warmupEpochs = parseNumber('--warmup-epochs', o.warmupEpochs ?? DEFAULTS[name].warmupEpochs);
        if (warmupEpochs >= epochs) {
          throw new UsageError(`--warmup-epochs must be below --epochs (${epochs}), got ${warmupEpochs}`);
        }
        const lr = parseNumber('--lr', o.lr ?? '0.1', true);
        const data = await loadDataset(o.data ?? 'fashion-mnist');
        const costs = familyCosts(family, data.train.shape, data.train.classNames.length);
        process.stdout.write(`experiment ${name}: ${family.description}\n`);
        for (const [i, c] of costs.entries()) {
          process.stdout.write(
            `  ${c.label.padEnd(14)} ${family.arms[i].setting.padEnd(6)} ${c.params.toLocaleString('en-US').padStart(9)} parameters ` +
              `${c.multAdds.toLocaleString('en-US').padStart(12)} mult-adds per image\n`,
          );
        }
        try {
          checkFamily(family, costs);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        const seeds = Array.from({ length: seedCount }, (_, i) => i);
        const backend = getDefaultBackend();
        const threads = backend.threads ? `${backend.threads.get()} thread(s)` : 'one thread';
        const recipe =
          `Recipe: ${epochs} epoch${epochs === 1 ? '' : 's'} of ${limitTrain ? `${limitTrain.toLocaleString('en-US')} of the` : 'all'} training images of ${o.data}, ` +
          `batch ${batchSize}, SGD with Nesterov momentum 0.9, peak learning rate ${lr}, ` +
          `${warmupEpochs ? `linear warm-up over ${warmupEpochs} epoch${warmupEpochs === 1 ? '' : 's'}, ` : ''}cosine schedule, weight decay 5e-4, ` +
          `random crop and flip; test error on ${limitTest ? limitTest.toLocaleString('en-US') : 'all'} test images after the last epoch. ` +
          `${backend.name} backend, ${threads} (the thread count changes float rounding: rerun with the same one to reproduce a run exactly).`;
        const ctrlC = stopOnCtrlC('run the same command again to resume');
        const started = Date.now();
        try {
          const results = await runExperiment(family, {
            data,
            dataSpec: o.data ?? 'fashion-mnist',
            epochs,
            seeds,
            batchSize,
            lr,
            warmupEpochs,
            limitTrain,
            limitTest,
            outDir: o.out ?? 'runs/experiment',
            shouldStop: ctrlC.stopRequested,
            onRun: (r) => {
              const note = { start: '', resume: ' (resuming)', done: ' (finished earlier: not redone)' }[r.status];
              process.stderr.write(`run ${r.index}/${r.total}: ${r.arm}, seed ${r.seed}${note}\n`);
            },
            events: {
              epochEnd: (r) =>
                process.stderr.write(
                  `  epoch ${r.epoch}/${epochs}: train loss ${r.trainLoss.toFixed(4)} | test top-1 ${(100 * r.testTop1).toFixed(2)}% | ${formatDuration(r.seconds)}\n`,
                ),
            },
          });
          if (!results) {
            process.exitCode = 130;
            return;
          }
          const rows = await writeExperimentReport(o.out ?? 'runs/experiment', family, costs, results, recipe);
          for (const r of rows) {
            const d = r.vsReference
              ? `, vs ${family.arms[family.reference].label} ${r.vsReference.mean >= 0 ? '+' : ''}${r.vsReference.mean.toFixed(2)} [${r.vsReference.low.toFixed(2)}, ${r.vsReference.high.toFixed(2)}]`
              : '';
            process.stdout.write(
              `${r.label}: test error ${r.testError.mean.toFixed(2)} ± ${r.testError.sd.toFixed(2)}%${d}\n`,
            );
          }
          process.stdout.write(
            `wrote ${o.out}/results.md, runs.json, error.png, curves.png in ${formatDuration((Date.now() - started) / 1000)}\n`,
          );
        } finally {
          ctrlC.release();
        }
      }),
    );
}
