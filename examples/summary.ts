// The tutorial's main job from TypeScript: ResNeXt-50's torchinfo table at batch 2, and the
// grouped convolution's parameter arithmetic. Run: npm run build && node dist/examples/summary.js
import { Conv2d, createModel, summary } from '../src/index';

const model = createModel('resnext50');
console.log(summary(model, [2, 3, 224, 224]).toString());

// 128 channels in 32 groups of 4: the weight count falls by the number of groups
const dense = new Conv2d(64, 128, 3, { bias: false });
const grouped = new Conv2d(64, 128, 3, { groups: 32, bias: false });
console.log(`Conv2d(64, 128, 3): ${dense.weight.numel} weights; with groups=32: ${grouped.weight.numel}`);
