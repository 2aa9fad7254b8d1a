// `resnext train <model> --data …`: training with a progress bar (quiet when not a TTY), a JSONL
// log, curves, per-epoch checkpoints, --resume, and Ctrl-C that saves and exits cleanly.
import { TRAIN_DEFAULTS } from '../train/recipe';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { loadDataset } from '../data/load';
import { modelName } from '../models/registry';
import type { EpochRecord } from '../train/plot';
import { train, type TrainConfig } from '../train/trainer';
import { formatDuration, RecentRate } from './progress';
import {
  guarded,
  parseChoice,
  parseNonNegativeInt,
  parseNumber,
  parsePositiveInt,
  stopOnCtrlC,
  UsageError,
} from './util';

/** The closing lines of a finished run: time, best and final accuracy, where the files are. */
function finalSummary(records: readonly (EpochRecord & { seconds?: number })[], out: string): string {
  const best = records.reduce((a, r) => (r.testTop1 > a.testTop1 ? r : a));
  const last = records[records.length - 1];
  const seconds = records.reduce((a, r) => a + (r.seconds ?? 0), 0);
  return (
    `done: ${records.length} epochs trained in ${formatDuration(seconds)}; test top-1 ${(100 * last.testTop1).toFixed(2)}% ` +
    `at the end (best ${(100 * best.testTop1).toFixed(2)}% at epoch ${best.epoch})\n` +
    `  ${out}/model.safetensors  the weights with their input, normalisation and class names (for predict, eval, export)\n` +
    `  ${out}/checkpoint.safetensors  everything --resume needs\n` +
    `  ${out}/metrics.jsonl, curves.png, curves.svg  per-epoch figures`
  );
}

/** The defaults every flag below shows. */
const D = TRAIN_DEFAULTS;

/** Registers the train command. */
export function registerTrain(program: Command): void {
  program
    .command('train <model>')
    .description('train a model on fashion-mnist, CIFAR (binary files you provide) or an image folder')
    .requiredOption('--data <spec>', 'fashion-mnist | cifar10:<dir> | cifar100:<dir> | folder:<dir>')
    .option('--epochs <n>', 'epochs', String(D.epochs))
    .option('--batch-size <n>', 'images per step', String(D.batchSize))
    .option('--lr <x>', 'peak learning rate', String(D.lr))
    .option('--optimizer <kind>', 'sgd | adamw', D.optimizer)
    .option('--momentum <x>', 'SGD momentum', String(D.momentum))
    .option('--nesterov', 'Nesterov momentum (SGD)')
    .option(
      '--weight-decay <x>',
      'weight decay (not applied to BatchNorm and bias parameters)',
      D.weightDecay.toExponential(),
    )
    .option('--schedule <kind>', 'constant | step | multistep | cosine', D.schedule)
    .option('--warmup-epochs <x>', 'linear warm-up epochs', String(D.warmupEpochs))
    .option('--milestones <list>', 'multistep: epochs where the rate drops, e.g. 30,60', D.milestones.join(','))
    .option('--gamma <x>', 'step/multistep decay factor', String(D.gamma))
    .option('--label-smoothing <x>', 'label smoothing', String(D.labelSmoothing))
    .option('--no-augment', 'no random crop (padding H/8) and horizontal flip')
    .option('--seed <n>', 'seed for initialisation, shuffling and augmentation', String(D.seed))
    .option('--out <dir>', 'output folder: checkpoint, model.safetensors, metrics.jsonl, curves.svg/png', 'runs/latest')
    .option('--resume', 'continue the run in --out exactly where it stopped')
    .option(
      '--overwrite',
      'start afresh in an --out that holds a previous run (its files are replaced as the new run writes its own)',
    )
    .option('--limit-train <n>', 'use N training images spread over the set (0: all)', '0')
    .option('--limit-test <n>', 'use N test images spread over the set (0: all)', '0')
    .option('--image-size <n>', 'folder datasets: decode images at this size', '32')
    .option('--prefetch <n>', 'batches prepared ahead on a worker thread', '2')
    .addHelpText(
      'after',
      '\nExample:\n  resnext train resnext_small --data fashion-mnist --epochs 15 --batch-size 128 --lr 0.1 --out runs/fmnist',
    )
    .action(
      guarded('train', async (model: string, o: Record<string, string | boolean | undefined>) => {
        const s = (k: string) => String(o[k]);
        const cfg: TrainConfig = {
          model: modelName(model),
          data: s('data'),
          epochs: parsePositiveInt('--epochs', s('epochs')),
          batchSize: parsePositiveInt('--batch-size', s('batchSize')),
          lr: parseNumber('--lr', s('lr'), true),
          optimizer: parseChoice('--optimizer', s('optimizer'), ['sgd', 'adamw']),
          momentum: parseNumber('--momentum', s('momentum')),
          nesterov: !!o.nesterov,
          weightDecay: parseNumber('--weight-decay', s('weightDecay')),
          schedule: parseChoice('--schedule', s('schedule'), ['constant', 'step', 'multistep', 'cosine']),
          warmupEpochs: parseNumber('--warmup-epochs', s('warmupEpochs')),
          milestones: s('milestones')
            ? s('milestones')
                .split(',')
                .map((m) => parseNonNegativeInt('--milestones entry', m))
            : [],
          gamma: parseNumber('--gamma', s('gamma')),
          labelSmoothing: parseNumber('--label-smoothing', s('labelSmoothing')),
          seed: parseNonNegativeInt('--seed', s('seed')),
          augment: o.augment !== false,
          limitTrain: parseNonNegativeInt('--limit-train', s('limitTrain')),
          limitTest: parseNonNegativeInt('--limit-test', s('limitTest')),
          prefetch: parseNonNegativeInt('--prefetch', s('prefetch')),
        };
        if (cfg.labelSmoothing > 1)
          throw new UsageError(`--label-smoothing must be in [0, 1], got ${cfg.labelSmoothing}`);
        const data = await loadDataset(cfg.data, { imageSize: parsePositiveInt('--image-size', s('imageSize')) });
        const tty = !!process.stderr.isTTY;
        const bar = tty
          ? new SingleBar({
              format: 'epoch {epoch} |{bar}| {value}/{total} | loss {loss} | acc {acc}% | {ips} img/s | ETA {eta}',
              hideCursor: true,
            })
          : null;
        const rate = new RecentRate();
        const ctrlC = stopOnCtrlC('Ctrl-C again to abort at once');
        try {
          const { stopped, records } = await train(cfg, data, s('out'), {
            resume: !!o.resume,
            overwrite: !!o.overwrite,
            shouldStop: ctrlC.stopRequested,
            events: {
              message: (m) => process.stderr.write(`${m}\n`),
              start: (i) =>
                process.stderr.write(
                  `training ${i.model} (${i.parameters.toLocaleString('en-US')} parameters) on ${cfg.data}: ` +
                    `${i.trainImages.toLocaleString('en-US')} train / ${i.testImages.toLocaleString('en-US')} test images, batch ${i.batchSize} ` +
                    `(${i.stepsPerEpoch} steps per epoch), ${i.epochs} epochs, ${i.backend} backend → ${s('out')}\n`,
                ),
              epochStart: (e, total, start) => {
                rate.reset();
                rate.add(0, Date.now());
                bar?.start(total, start, { epoch: `${e + 1}/${cfg.epochs}`, loss: '-', acc: '-', ips: '-', eta: '-' });
              },
              batchEnd: (b) => {
                const ips = rate.add(cfg.batchSize, Date.now());
                const eta = formatDuration(((b.batches - b.batch) * cfg.batchSize) / ips);
                const shown = {
                  loss: b.loss.toFixed(4),
                  acc: (100 * b.acc).toFixed(2),
                  ips: Number.isNaN(ips) ? '-' : ips.toFixed(1),
                  eta,
                };
                bar?.update(b.batch, shown);
                // without a terminal: a plain line at every tenth of the epoch
                const tenth = Math.floor((10 * b.batch) / b.batches);
                if (!bar && tenth > Math.floor((10 * (b.batch - 1)) / b.batches) && b.batch < b.batches) {
                  process.stderr.write(
                    `epoch ${b.epoch + 1}/${cfg.epochs}: ${Math.round((100 * b.batch) / b.batches)}% (${b.batch}/${b.batches} batches) | loss ${shown.loss} ` +
                      `| acc ${shown.acc}% | ${shown.ips} img/s | ETA ${eta}\n`,
                  );
                }
              },
              epochEnd: (r) => {
                bar?.stop();
                process.stdout.write(
                  `epoch ${r.epoch}/${cfg.epochs}: train loss ${r.trainLoss.toFixed(4)} acc ${(100 * r.trainAcc).toFixed(2)}% | ` +
                    `test loss ${r.testLoss.toFixed(4)} top-1 ${(100 * r.testTop1).toFixed(2)}% top-5 ${(100 * r.testTop5).toFixed(2)}% | ` +
                    `${r.imagesPerSecond.toFixed(1)} img/s, ${formatDuration(r.seconds)}\n`,
                );
              },
            },
          });
          bar?.stop();
          if (stopped) {
            process.stderr.write(`saved ${s('out')}/checkpoint.safetensors; continue with --resume\n`);
            process.exitCode = 130;
          } else if (records.length) process.stderr.write(`${finalSummary(records, s('out'))}\n`);
        } finally {
          ctrlC.release();
        }
      }),
    );
}
