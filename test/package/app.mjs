// What a consumer of 'resnext-ts' runs, the same in Node and in the browser: the tutorial's
// ResNeXt-50 summary at 2x3x224x224 and a forward pass of a small seeded ResNeXt.
import { createModel, Generator, getDefaultBackend, noGrad, randn, summary } from 'resnext-ts';

export function run() {
  const table = summary(createModel('resnext50'), [2, 3, 224, 224]).toString();
  const model = createModel('resnext_tiny', { seed: 0 });
  model.eval();
  const x = randn([2, 3, 32, 32], { generator: new Generator(7) });
  const logits = noGrad(() => model.call(x));
  return { backend: getDefaultBackend().name, table, shape: logits.shape, logits: Array.from(logits.toArray()) };
}
