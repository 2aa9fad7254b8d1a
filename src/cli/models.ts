// `resnext models`: every registered model with parameters and mult-adds per image.
import type { Command } from 'commander';
import { paperError } from '../models/paper';
import { listModels } from '../models/registry';
import { formatTotal } from '../summary/format';
import { modelStats } from '../summary/stats';
import type { ModelsJsonEntry } from './json-output';
import { guarded, printJson, UsageError } from './util';
import { textTable } from '../summary/text-table';

/** Registers the models command. */
export function registerModels(program: Command): void {
  program
    .command('models [filter]')
    .description(
      'list the registered models (those whose name or family contains [filter]) with parameters, mult-adds per image ' +
        "(224x224, or 32x32 for CIFAR models) and the paper's error where it reports one",
    )
    .option('--long', "add each model's description")
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  resnext models\n  resnext models resnext101 --long')
    .action(
      guarded('models', (filter: string | undefined, o: { long?: boolean; json?: boolean }) => {
        const wanted = listModels().filter(
          (v) => !filter || `${v.name} ${v.family}`.toLowerCase().includes(filter.toLowerCase()),
        );
        if (!wanted.length)
          throw new UsageError(`no registered model matches '${filter}' (run 'resnext models' for the list)`);
        const rows: ModelsJsonEntry[] = wanted.map((v) => ({
          name: v.name,
          family: v.family,
          description: v.description,
          ...modelStats(v.name),
          paperError: paperError(v.name),
        }));
        if (o.json) {
          printJson(rows);
          return;
        }
        const header = [
          'model',
          'family',
          'params',
          'mult-adds',
          'input',
          'paper error %',
          ...(o.long ? ['description'] : []),
        ];
        process.stdout.write(
          `${textTable(
            header,
            rows.map((r) => [
              r.name,
              r.family,
              `${(r.params / 1e6).toFixed(2)} M`,
              `${formatTotal(r.multAddsPerImage, 'auto').replace(/^ \((\w)\): (.*)$/, '$2 $1')}`,
              r.inputSize.join('x'),
              r.paperError
                ? `${r.paperError.error.toFixed(r.paperError.metric === 'CIFAR-10' ? 2 : 1)} (${r.paperError.metric})`
                : '',
              ...(o.long ? [r.description] : []),
            ]),
            [false, false, true, true, false, false, false],
          )}\n`,
        );
      }),
    );
}
