// The tutorial's grouped-convolution arithmetic — dense vs grouped weight counts, computed from the
// real Conv2d layers on the meta backend — and its text, shared by `resnext conv-params` and the page.
import { metaBackend } from '../backend/meta';
import { Conv2d } from './layers';

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

/** The arithmetic as the lines `resnext conv-params` prints. */
export function formatConvParams(r: ConvParamReport): string {
  const kk = `${r.kernel} x ${r.kernel}`;
  if (r.groups === 1) {
    return (
      `Conv2d(${r.inChannels}, ${r.outChannels}, ${r.kernel}): a dense convolution (groups=1)\n` +
      `  ${r.inChannels} x ${r.outChannels} x ${kk} = ${n(r.denseWeights)} weights\n` +
      `Try --groups G (a divisor of both ${r.inChannels} and ${r.outChannels}) to see what grouping saves.\n`
    );
  }
  return [
    `Conv2d(${r.inChannels}, ${r.outChannels}, ${r.kernel}):`,
    `  ${r.inChannels} x ${r.outChannels} x ${kk} = ${n(r.denseWeights)} weights`,
    `Conv2d(${r.inChannels}, ${r.outChannels}, ${r.kernel}, groups=${r.groups}):`,
    `  each of ${r.groups} groups maps ${r.inPerGroup} input channels to ${r.outPerGroup} output channels`,
    `  ${r.groups} x (${r.inPerGroup} x ${r.outPerGroup} x ${kk}) = ${r.inChannels} x ${r.outPerGroup} x ${kk} = ${n(r.groupedWeights)} weights`,
    `Grouping divides the weight count by ${r.factor} (the number of groups): ${n(r.denseWeights)} -> ${n(r.groupedWeights)}`,
    '',
  ].join('\n');
}
