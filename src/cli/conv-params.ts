// `resnext conv-params <in> <out> <kernel> [--groups G]`: the tutorial's dense vs grouped
// weight arithmetic, computed by building the real Conv2d layers (on the meta backend).
import type { Command } from 'commander';
import { metaBackend } from '../backend/meta';
import { Conv2d } from '../nn/layers';
import { guarded, parsePositiveInt, printJson } from './util';

/** The arithmetic of a grouped convolution's weight count. */
export interface ConvParamReport {
  inChannels: number;
  outChannels: number;
  kernel: number;
  groups: number;
  denseWeights: number;
  groupedWeights: number;
  inPerGroup: number;
  outPerGroup: number;
  weightsPerGroup: number;
  factor: number;
}

/** Weight counts of Conv2d(in, out, k) and Conv2d(in, out, k, groups=G), from the layers themselves. */
export function convParamReport(
  inChannels: number,
  outChannels: number,
  kernel: number,
  groups: number,
): ConvParamReport {
  const dense = new Conv2d(inChannels, outChannels, kernel, { bias: false, backend: metaBackend });
  const grouped = new Conv2d(inChannels, outChannels, kernel, { bias: false, groups, backend: metaBackend });
  const inPerGroup = inChannels / groups,
    outPerGroup = outChannels / groups;
  return {
    inChannels,
    outChannels,
    kernel,
    groups,
    denseWeights: dense.weight.numel,
    groupedWeights: grouped.weight.numel,
    inPerGroup,
    outPerGroup,
    weightsPerGroup: inPerGroup * outPerGroup * kernel * kernel,
    factor: dense.weight.numel / grouped.weight.numel,
  };
}

const n = (v: number) => v.toLocaleString('en-US');

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
        const kk = `${r.kernel} x ${r.kernel}`;
        if (r.groups === 1) {
          process.stdout.write(
            `Conv2d(${r.inChannels}, ${r.outChannels}, ${r.kernel}): a dense convolution (groups=1)\n` +
              `  ${r.inChannels} x ${r.outChannels} x ${kk} = ${n(r.denseWeights)} weights\n` +
              `Try --groups G (a divisor of both ${r.inChannels} and ${r.outChannels}) to see what grouping saves.\n`,
          );
          return;
        }
        process.stdout.write(
          [
            `Conv2d(${r.inChannels}, ${r.outChannels}, ${r.kernel}):`,
            `  ${r.inChannels} x ${r.outChannels} x ${kk} = ${n(r.denseWeights)} weights`,
            `Conv2d(${r.inChannels}, ${r.outChannels}, ${r.kernel}, groups=${r.groups}):`,
            `  each of ${r.groups} groups maps ${r.inPerGroup} input channels to ${r.outPerGroup} output channels`,
            `  ${r.groups} x (${r.inPerGroup} x ${r.outPerGroup} x ${kk}) = ${r.inChannels} x ${r.outPerGroup} x ${kk} = ${n(r.groupedWeights)} weights`,
            `Grouping divides the weight count by ${r.factor} (the number of groups): ${n(r.denseWeights)} -> ${n(r.groupedWeights)}`,
            '',
          ].join('\n'),
        );
      }),
    );
}
