// `resnext eval <model> --weights W --data …`: test accuracy, per-class accuracy, confusion matrix.
import type { Command } from 'commander';
import { subset } from '../data/dataset';
import { DataLoader } from '../data/loader';
import { loadDataset } from '../data/load';
import { evaluate } from '../train/evaluate';
import { addModelFlags, type ModelFlags, normalisationFor } from './model-options';
import { addPrecisionOption, loadInferenceModel } from './precision';
import type { EvalJson } from './json-output';
import { QuietProgress } from './progress';
import { guarded, parseNonNegativeInt, parsePositiveInt, printJson } from './util';
import { textTable } from '../summary/text-table';

/** Registers the eval command. */
export function registerEval(program: Command): void {
  addPrecisionOption(
    addModelFlags(
      program
        .command('eval <model>')
        .description(
          "evaluate trained weights on a dataset's test split: accuracy, per-class accuracy, confusion matrix",
        )
        .requiredOption('--weights <file>', 'weights (e.g. runs/latest/model.safetensors)')
        .requiredOption('--data <spec>', 'fashion-mnist | cifar10:<dir> | cifar100:<dir> | folder:<dir>')
        .option('--batch-size <n>', 'images per batch', '256')
        .option('--limit-test <n>', 'use N test images spread over the set (0: all)', '0')
        .option('--image-size <n>', 'folder datasets: decode images at this size', '32')
        .option('--json', 'print as JSON'),
    ),
  ).action(
    guarded(
      'eval',
      async (
        name: string,
        o: ModelFlags & {
          weights: string;
          data: string;
          batchSize: string;
          limitTest: string;
          imageSize: string;
          json?: boolean;
          precision?: string;
        },
      ) => {
        const data = await loadDataset(o.data, { imageSize: parsePositiveInt('--image-size', o.imageSize) });
        const limit = parseNonNegativeInt('--limit-test', o.limitTest);
        const test = limit ? subset(data.test, limit) : data.test;
        const { model, weights, inference, precision } = loadInferenceModel(name, o.weights, o);
        // normalise exactly as training did: its mean/std are in the weights' metadata (else the train split's)
        const norm = normalisationFor(weights, data.train);
        const loader = new DataLoader(test, {
          batchSize: parsePositiveInt('--batch-size', o.batchSize),
          shuffle: false,
          seed: 0,
          dropLast: false,
          prefetch: 0,
          transform: { randomCropPadding: 0, horizontalFlip: false, ...norm },
        });
        const classes = data.train.classNames;
        if (!o.json)
          process.stderr.write(
            `evaluating ${o.weights} as ${name} (${precision}) on ${test.name}: ${test.labels.length.toLocaleString('en-US')} images\n`,
          );
        const progress = new QuietProgress(`evaluating ${name} on ${test.name}`, test.labels.length, 'images');
        const r = await evaluate(model, loader, classes.length, (done) => progress.update(done), inference);
        const perClass = r.confusion.perClassAccuracy();
        // top-5 says something only with more than 5 classes
        const top5 = classes.length > 5 ? r.top5 : null;
        if (o.json) {
          const out: EvalJson = {
            images: test.labels.length,
            precision,
            loss: r.loss,
            top1: r.top1,
            top5,
            classes: [...classes],
            perClassAccuracy: perClass,
            confusion: r.confusion.counts,
          };
          printJson(out);
          return;
        }
        process.stdout.write(
          `${test.labels.length} test images: loss ${r.loss.toFixed(4)}, top-1 ${(100 * r.top1).toFixed(2)}%` +
            `${top5 === null ? '' : `, top-5 ${(100 * top5).toFixed(2)}%`}\n\n`,
        );
        process.stdout.write(
          `${textTable(
            ['class', 'accuracy', ...classes.map((_, i) => String(i))],
            classes.map((c, i) => [`${i} ${c}`, `${(100 * perClass[i]).toFixed(1)}%`, ...r.confusion.counts[i]]),
            [false, true, ...classes.map(() => true)],
          )}\n(rows: true class, columns: predicted)\n`,
        );
      },
    ),
  );
}
