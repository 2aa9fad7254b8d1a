// `resnext conv-params <in> <out> <kernel> [--groups G]`: the tutorial's dense vs grouped
// weight arithmetic (nn/conv-arithmetic.ts), computed by building the real Conv2d layers.
import type { Command } from 'commander';
import { convParamReport, formatConvParams } from '../nn/conv-arithmetic';
import { guarded, parsePositiveInt, printJson } from './util';

export type { ConvParamReport } from '../nn/conv-arithmetic';

/** Registers the conv-params command. */
export function registerConvParams(program: Command): void {
  program
    .command('conv-params <in> <out> <kernel>')
    .description("compare the weights of a dense and a grouped convolution (the tutorial's parameter arithmetic)")
    .option('--groups <g>', 'number of groups (cardinality)', '32')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample (the tutorial):\n  resnext conv-params 64 128 3 --groups 32')
    .action(
      guarded('conv-params', (a: string, b: string, k: string, o: { groups: string; json?: boolean }) => {
        const r = convParamReport(
          parsePositiveInt('<in>', a),
          parsePositiveInt('<out>', b),
          parsePositiveInt('<kernel>', k),
          parsePositiveInt('--groups', o.groups),
        );
        if (o.json) {
          printJson(r);
          return;
        }
        process.stdout.write(formatConvParams(r));
      }),
    );
}
