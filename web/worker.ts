// The page's worker: classifies images (Predict) and trains resnext_small on Fashion-MNIST (Train)
// with the library's browser entry, off the page's thread; reports progress as it goes.
import {
  Batches,
  classify,
  evaluate,
  fashionMnistFileNames,
  imageBatch,
  isInt8File,
  learningRate,
  modelFromWeights,
  modelsFitting,
  normalizePixels,
  parseFashionMnistSplit,
  prepareForInference,
  preprocessingFor,
  readInt8ModelFile,
  readWeights,
  resizeAndCrop,
  serializeSafetensors,
  setDefaultBackend,
  getBackend,
  trainStep,
  usageMetadata,
  TRAIN_DEFAULTS,
  prepareRun,
  getVariant,
  type DatasetSplits,
  type ImageClassifier,
  type Pixels,
  type WeightsUsage,
} from '../src/browser';
import type { Job, Report } from './messages';

const scope = self as unknown as {
  postMessage(r: Report, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<Job>) => void) | null;
};
const report = (r: Report, transfer?: Transferable[]) => scope.postMessage(r, transfer);

/** The page's folder, where data/fashion-mnist/ sits (this script is dist/web/worker.js). */
const PAGE_ROOT = new URL('.', self.location.href);

/** Decodes an image file at full size, EXIF orientation applied, colours as stored. */
async function decodeFile(file: File): Promise<Pixels> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new Error(`${file.name}: cannot decode image (not an image format this browser reads)`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error(`${file.name}: no 2D canvas in this browser`);
  ctx.drawImage(bitmap, 0, 0);
  const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  bitmap.close();
  return { data, width, height, channels: 4 };
}

const bytesOf = async (f: File) => new Uint8Array(await f.arrayBuffer());

async function predict(job: Extract<Job, { kind: 'predict' }>): Promise<void> {
  setDefaultBackend(getBackend(job.backend));
  report({ kind: 'progress', text: `reading ${job.weights.name}`, done: 0, total: job.images.length });
  const weights = readWeights(await bytesOf(job.weights), job.weights.name);
  // an int8 model file (`resnext quantize`) runs here as its float32 equivalent, dequantised: the
  // page's backends (wasm, reference) have no int8 kernels
  const tensors = isInt8File(weights.metadata)
    ? readInt8ModelFile(weights.tensors, weights.metadata, job.weights.name).stateDict
    : weights.tensors;
  let name = job.model;
  if (name === 'auto') {
    const fits = modelsFitting(tensors);
    name = weights.usage.model && fits.includes(weights.usage.model as never) ? weights.usage.model : fits[0];
    if (!name) throw new Error(`${job.weights.name} fits no registered model; pick the model it was saved from`);
  }
  const model = prepareForInference(modelFromWeights(name, tensors, job.weights.name)).eval();
  const p = preprocessingFor(weights.usage, job.weights.name);
  for (const [i, file] of job.images.entries()) {
    report({ kind: 'progress', text: `classifying ${file.name}`, done: i, total: job.images.length });
    const start = performance.now();
    const x = imageBatch([normalizePixels(resizeAndCrop(await decodeFile(file), p, file.name), p)], p);
    const { top } = classify(model, x, job.top, weights.usage);
    report({ kind: 'predicted', image: file.name, top: top[0], milliseconds: performance.now() - start });
  }
  report({ kind: 'predict-done', model: name, backend: job.backend });
}

/** The shipped subset (fetched beside the page) or the four files the user gave. */
async function fashionMnist(files: File[]): Promise<DatasetSplits & { source: string }> {
  const split = async (which: 'train' | 'test') => {
    const names = fashionMnistFileNames(which);
    const find = async (base: string) => {
      if (files.length === 0) {
        const url = new URL(`data/fashion-mnist/${base}.gz`, PAGE_ROOT);
        const res = await fetch(url);
        if (!res.ok) throw new Error(`${url.pathname}: ${res.status} ${res.statusText} (the page's subset is missing)`);
        return { name: `${base}.gz`, bytes: new Uint8Array(await res.arrayBuffer()) };
      }
      const f = files.find((x) => x.name === base || x.name === `${base}.gz`);
      if (!f) throw new Error(`${base}.gz is not among the files given (${files.map((x) => x.name).join(', ')})`);
      return { name: f.name, bytes: await bytesOf(f) };
    };
    return parseFashionMnistSplit(which, await find(names.images), await find(names.labels));
  };
  return { train: await split('train'), test: await split('test'), source: files.length ? 'your files' : 'subset' };
}

let paused = false;
let resumeTraining: (() => void) | null = null;
let trained: { model: ImageClassifier; usage: WeightsUsage } | null = null;

/** A turn of the event loop (so pause, resume and weights requests are heard), then waits while paused. */
async function checkpoint(): Promise<void> {
  await new Promise((r) => setTimeout(r, 0));
  while (paused) await new Promise<void>((r) => (resumeTraining = r));
}

async function train(job: Extract<Job, { kind: 'train' }>): Promise<void> {
  setDefaultBackend(getBackend(job.backend));
  report({ kind: 'progress', text: 'reading Fashion-MNIST', done: 0, total: 1 });
  const data = await fashionMnist(job.files);
  report({ kind: 'data', train: data.train.labels.length, test: data.test.labels.length, source: data.source });
  // what `resnext train resnext_small --data fashion-mnist:<dir>` does with the same flags (its defaults otherwise)
  const recipe = { ...TRAIN_DEFAULTS, epochs: job.epochs, batchSize: job.batchSize, lr: job.lr, seed: job.seed };
  const run = prepareRun({ ...recipe, augment: job.augment }, getVariant('resnext_small'), data.train);
  const { model, optimizer } = run;
  trained = { model, usage: run.usage };
  const batches = new Batches(data.train, run.trainBatches);
  const testBatches = new Batches(data.test, run.testBatches);
  const steps = batches.numBatches();
  const schedule = run.schedule(steps);
  let step = 0;
  for (let epoch = 0; epoch < job.epochs; epoch++) {
    model.train();
    let loss = 0,
      correct = 0,
      seen = 0,
      seconds = 0;
    for await (const b of batches.epoch(epoch)) {
      const t0 = performance.now();
      optimizer.lr = learningRate(schedule, step);
      const r = trainStep(model, optimizer, b.x, b.y, {
        labelSmoothing: recipe.labelSmoothing,
        failure: (v) =>
          `training loss became ${v} at epoch ${epoch + 1}, batch ${b.index + 1}; lower the learning rate`,
      });
      seconds += (performance.now() - t0) / 1000;
      step++;
      loss += r.loss * b.y.length;
      correct += r.correct;
      seen += b.y.length;
      report({
        kind: 'step',
        epoch: epoch + 1,
        batch: b.index + 1,
        batches: steps,
        loss: r.loss,
        acc: correct / seen,
        imagesPerSecond: seen / seconds,
      });
      await checkpoint();
    }
    const test = await evaluate(model, testBatches, 10, async (n) => {
      report({
        kind: 'progress',
        text: `testing on ${n} of ${data.test.labels.length} images`,
        done: n,
        total: data.test.labels.length,
      });
      await checkpoint();
    });
    report({
      kind: 'epoch',
      figures: {
        epoch: epoch + 1,
        trainLoss: loss / seen,
        trainAcc: correct / seen,
        testLoss: test.loss,
        testTop1: test.top1,
        seconds,
      },
    });
  }
  report({ kind: 'train-done' });
}

/** The trained weights as the .safetensors `resnext train` writes (usage recorded for eval and predict). */
function weightsFile(): void {
  if (!trained) throw new Error('nothing trained yet');
  const bytes = serializeSafetensors(trained.model.stateDict(), { format: 'pt', ...usageMetadata(trained.usage) });
  report({ kind: 'weights', bytes, name: 'resnext_small-fashion-mnist.safetensors' }, [bytes.buffer]);
}

scope.onmessage = (e) => {
  const job = e.data;
  const run = async () => {
    if (job.kind === 'predict') await predict(job);
    else if (job.kind === 'train') await train(job);
    else if (job.kind === 'weights') weightsFile();
    else {
      paused = job.kind === 'pause';
      if (!paused) resumeTraining?.();
      report({ kind: 'paused', paused });
    }
  };
  run().catch((err: unknown) => report({ kind: 'error', message: err instanceof Error ? err.message : String(err) }));
};
