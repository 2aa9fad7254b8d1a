// Loads weights (a PyTorch checkpoint or safetensors) and classifies images with torchvision's
// preprocessing. Run: node dist/examples/classify.js <model> <weights> <image...>
import {
  createModel,
  F,
  IMAGENET_CLASSES,
  loadImageBatch,
  loadWeights,
  modelName,
  noGrad,
  prepareForInference,
} from '../src/index';

async function main(): Promise<void> {
  const [name, weightsPath, ...images] = process.argv.slice(2);
  if (!name || !weightsPath || images.length === 0) throw new Error('usage: classify.js <model> <weights> <image...>');
  const weights = loadWeights(weightsPath);
  const model = createModel(modelName(name), { numClasses: weights.get('fc.weight')?.shape[0] });
  const report = model.loadStateDict(weights);
  if (report.missingKeys.length) throw new Error(`${weightsPath}: missing ${report.missingKeys.length} keys`);
  prepareForInference(model).eval(); // conv + batch norm + ReLU fused for inference
  const batch = await loadImageBatch(images);
  const probs = noGrad(() => F.softmax(model.call(batch)));
  const top = F.topk(probs, 3);
  images.forEach((image, i) => {
    const labels = top.indices[i].map(
      (c, j) => `${IMAGENET_CLASSES[c] ?? `class ${c}`} ${(100 * top.values[i][j]).toFixed(1)}%`,
    );
    console.log(`${image}: ${labels.join(', ')}`);
  });
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exitCode = 1;
});
