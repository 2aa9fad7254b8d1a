// `resnext summary <model>`: torchinfo's table for a registered model.
import type { Command } from 'commander';
import { metaBackend } from '../backend/meta';
import { readWeightsFile } from '../io/load-save';
import { createModel, modelName } from '../models/registry';
import { ALL_COLUMNS, summary, type SummaryColumn } from '../summary';
import type { SummaryJson } from './json-output';
import { modelWithWeights, parseInputShape, parseModelFlags } from './model-options';
import { guarded, parseChoice, parseNonNegativeInt, printJson } from './util';

/** Registers the summary command. */
export function registerSummary(program: Command): void {
  program
    .command('summary <model>')
    .description('print a torchinfo-style summary of a model (layers, output shapes, parameters, mult-adds, memory)')
    .option(
      '--input <shape>',
      "input size N,C,H,W (or C,H,W for one image) (default: 1 image at the model's native size)",
    )
    .option('--depth <n>', 'rows deeper than this are counted but hidden', '3')
    .option('--columns <list>', `comma-separated columns: ${ALL_COLUMNS.join(', ')}`, 'output_size,num_params')
    .option(
      '--stride-at <conv>',
      "where a downsampling block's stride sits: 1x1 (the tutorial) or 3x3 (the paper, torchvision)",
    )
    .option('--num-classes <n>', 'size of the classifier output')
    .option('--weights <file>', 'summarise the model these weights are for: their class count, input channels and size')
    .option('--json', 'print rows and totals as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  resnext summary resnext50 --input 2,3,224,224\n  resnext summary resnext50_32x4d --columns input_size,output_size,num_params,kernel_size,mult_adds --depth 2',
    )
    .action(
      guarded(
        'summary',
        (
          name: string,
          o: {
            input?: string;
            depth: string;
            columns: string;
            strideAt?: string;
            numClasses?: string;
            weights?: string;
            json?: boolean;
          },
        ) => {
          const columns = o.columns
            .split(',')
            .map((c) => parseChoice('--columns entry', c.trim(), ALL_COLUMNS)) as SummaryColumn[];
          // weights bring their class count, channels and (for a `resnext train` run) input size
          const weights = o.weights ? readWeightsFile(o.weights) : null;
          const input = parseInputShape(
            name,
            o.input,
            { size: 1, flag: '--batch-size', explicit: false },
            weights?.usage.input,
          );
          const model = weights
            ? modelWithWeights(name, weights.tensors, o, o.weights!, true)
            : createModel(modelName(name), { backend: metaBackend, ...parseModelFlags(o), inChannels: input[1] });
          const s = summary(model, input, { depth: parseNonNegativeInt('--depth', o.depth), columns });
          for (const w of s.warnings) process.stderr.write(`resnext: warning: ${w}\n`);
          if (o.json) printJson({ ...s.toJSON(), model: name } satisfies SummaryJson);
          else process.stdout.write(`${s.toString()}\n`);
        },
      ),
    );
}
