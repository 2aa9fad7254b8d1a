// `resnext models`: every registered model with parameters and mult-adds per image.
import type { Command } from 'commander';
import { listModels } from '../models/registry';
import { modelStats } from './stats';
import type { ModelsJsonEntry } from './json-output';
import { guarded, printJson, textTable } from './util';

/** Registers the models command. */
export function registerModels(program: Command): void {
  program.command('models')
    .description('list every registered model with its parameters and mult-adds per image (224x224, or 32x32 for CIFAR models)')
    .option('--json', 'print as JSON')
    .action(guarded('models', (o: { json?: boolean }) => {
      const rows: ModelsJsonEntry[] = listModels().map((v) => ({ name: v.name, family: v.family, description: v.description, ...modelStats(v.name) }));
      if (o.json) { printJson(rows); return; }
      process.stdout.write(`${textTable(['model', 'family', 'params', 'mult-adds', 'input', 'description'],
        rows.map((r) => [r.name, r.family, r.params.toLocaleString('en-US'), `${(r.multAddsPerImage / 1e9).toFixed(2)} G`, r.inputSize.join('x'), r.description]),
        [false, false, true, true, false, false])}\n`);
    }));
}
