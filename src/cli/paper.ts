// `resnext paper`: the paper's Tables 1–4 and 7 — our computed params and mult-adds beside
// the published numbers and errors.
import type { Command } from 'commander';
import { PAPER_CITATION } from '../models/paper';
import { formatPaperTables, paperTablesWithOurs } from '../summary/paper-report';
import type { PaperJson } from './json-output';
import { guarded, printJson } from './util';

/** Registers the paper command. */
export function registerPaper(program: Command): void {
  program
    .command('paper')
    .description("the paper's Tables 1–4 and 7: our computed parameters and mult-adds beside the published figures")
    .option('--json', 'print as JSON')
    .action(
      guarded('paper', (o: { json?: boolean }) => {
        const tables = paperTablesWithOurs();
        if (o.json) {
          printJson({ citation: PAPER_CITATION, tables } satisfies PaperJson);
          return;
        }
        process.stdout.write(formatPaperTables(tables));
      }),
    );
}
