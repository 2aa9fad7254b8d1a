// bf16 and int8 inference from the API: the same model in float32, bf16 and int8 (calibrated on
// sample batches), compared by top-1 agreement, and the int8 model written as a file.
// Run: node dist/examples/low-precision.js [out.safetensors]
import {
  calibrate,
  createModel,
  Generator,
  int8ModelFile,
  noGrad,
  prepareForInference,
  quantizeModel,
  randn,
  saveSafetensors,
  type Tensor,
} from '../src/index';

function top1(logits: Tensor): number[] {
  const [n, k] = logits.shape,
    v = logits.toArray();
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let j = 1; j < k; j++) if (v[i * k + j] > v[i * k + best]) best = j;
    return best;
  });
}

const gen = new Generator(0);
const model = createModel('resnext_small', { seed: 0 });
// batch-norm statistics from a few batches, as training would leave them
model.train();
noGrad(() => {
  for (let i = 0; i < 3; i++) model.call(randn([16, 3, 32, 32], { generator: gen }));
});
model.eval();
const x = randn([32, 3, 32, 32], { generator: gen });
const run = () => top1(noGrad(() => model.call(x)));

const fp32 = run();
// fast where the backend says so: getDefaultBackend().fastPrecisions?.() (the CLI checks it and warns)
prepareForInference(model, { precision: 'bf16' });
const bf16 = run();
const calibration = [0, 1, 2, 3].map(() => randn([16, 3, 32, 32], { generator: gen }));
const quantized = quantizeModel(model, calibrate(model, calibration)); // BN folded, per-channel weights
prepareForInference(model, { precision: 'int8', quantized });
const int8 = run();
const agree = (a: number[]) => a.filter((c, i) => c === fp32[i]).length;
console.log(`bf16 agrees with float32 on ${agree(bf16)} of ${fp32.length} images`);
console.log(
  `int8 agrees with float32 on ${agree(int8)} of ${fp32.length} images (${quantized.size} convolutions in int8)`,
);
const out = process.argv[2];
if (out) {
  const file = int8ModelFile(model, quantized, new Map());
  saveSafetensors(out, file.tensors, file.metadata, file.int8);
  console.log(`wrote ${out}: run it with \`resnext eval resnext_small --weights ${out} --data …\``);
}
