// `resnext quantize <model> --weights W --calibrate <data> --out q.safetensors`: post-training
// static int8 quantisation (nn/quantize.ts) calibrated on the user's data — a dataset spec that
// `train` accepts (its training split), a folder of images, or an [N, C, H, W] .npy batch — written
// as an int8 model file (io/int8-weights.ts) that eval, predict, forward and inspect read.
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { subset } from '../data/dataset';
import { loadDataset } from '../data/load';
import { loadImageBatch } from '../data/image';
import { imageFilesUnder } from '../data/image-folder';
import { DataLoader } from '../data/loader';
import { isInt8File, int8ModelFile } from '../io/int8-weights';
import { loadNpy, readWeightsFile, saveSafetensors } from '../io/load-save';
import type { WeightsFile } from '../io/weights';
import { preprocessingFor } from '../models/predict';
import { calibrate, quantizeModel } from '../nn/quantize';
import { tensor } from '../tensor/create';
import type { Tensor } from '../tensor/tensor';
import { addModelFlags, modelWithWeights, type ModelFlags, normalisationFor } from './model-options';
import { checkOutput, guarded, parsePositiveInt, UsageError } from './util';

/** Registers the quantize command. */
export function registerQuantize(program: Command): void {
  addModelFlags(
    program
      .command('quantize <model>')
      .description(
        'int8 post-training quantisation: fold batch norms, quantise weights per output channel, calibrate ' +
          'activation scales on your data, and write an int8 model file that eval, predict and forward run',
      )
      .requiredOption('--weights <file>', 'float32 weights (.safetensors or a PyTorch .pth)')
      .requiredOption(
        '--calibrate <data>',
        'calibration inputs: a dataset spec that train accepts (its training split), a folder of images, or an [N, C, H, W] .npy',
      )
      .requiredOption('--out <file>', 'the int8 model file to write (.safetensors)')
      .option('--calibration-images <n>', 'images to calibrate on (spread over the data)', '512')
      .option('--batch-size <n>', 'images per calibration batch', '64')
      .option('--image-size <n>', 'folder datasets: decode images at this size', '32'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  resnext quantize resnext_medium --weights runs/fmnist/model.safetensors --calibrate fashion-mnist --out fmnist-int8.safetensors\n' +
        '  resnext eval resnext_medium --weights fmnist-int8.safetensors --data fashion-mnist   # runs in int8',
    )
    .action(
      guarded(
        'quantize',
        async (
          name: string,
          o: ModelFlags & {
            weights: string;
            calibrate: string;
            out: string;
            calibrationImages: string;
            batchSize: string;
            imageSize: string;
          },
        ) => {
          checkOutput(o.out, '.safetensors', 'an int8 model file', [o.weights, o.calibrate]);
          const count = parsePositiveInt('--calibration-images', o.calibrationImages);
          const batchSize = parsePositiveInt('--batch-size', o.batchSize);
          const weights = readWeightsFile(o.weights);
          if (isInt8File(weights.metadata)) throw new UsageError(`${o.weights} is already an int8 model file`);
          const model = modelWithWeights(name, weights.tensors, o, o.weights);
          const batches = await calibrationBatches(o.calibrate, weights, o, count, batchSize);
          const images = batches.reduce((n, b) => n + b.shape[0], 0);
          const quantized = quantizeModel(model, calibrate(model, batches));
          const file = int8ModelFile(model, quantized, weights.metadata);
          saveSafetensors(o.out, file.tensors, file.metadata, file.int8);
          const bytes = (p: string) => statSync(p).size / 2 ** 20;
          process.stdout.write(
            `quantised ${quantized.size} convolutions of ${name} to int8, calibrated on ${images} images from ${o.calibrate}; ` +
              `wrote ${o.out} (${bytes(o.out).toFixed(2)} MiB; the float32 weights: ${bytes(o.weights).toFixed(2)} MiB)\n`,
          );
        },
      ),
    );
}

/** The calibration inputs as batches, preprocessed as the weights are used (their recorded normalisation). */
async function calibrationBatches(
  spec: string,
  weights: WeightsFile,
  o: { imageSize: string },
  count: number,
  batchSize: number,
): Promise<Tensor[]> {
  const split = (x: Tensor): Tensor[] => {
    const out: Tensor[] = [];
    const per = x.numel / x.shape[0],
      values = x.toArray();
    for (let i = 0; i < Math.min(count, x.shape[0]); i += batchSize) {
      const n = Math.min(batchSize, count - i, x.shape[0] - i);
      out.push(tensor(values.slice(i * per, (i + n) * per), [n, ...x.shape.slice(1)], { dtype: 'float32' }));
    }
    return out;
  };
  if (spec.endsWith('.npy')) {
    const x = loadNpy(spec);
    if (x.ndim !== 4 || x.dtype === 'int64')
      throw new UsageError(
        `--calibrate ${spec}: expected a float [N, C, H, W] array, got ${x.dtype} [${x.shape.join(', ')}]`,
      );
    return split(x);
  }
  if (existsSync(spec) && statSync(spec).isDirectory()) {
    const files = imageFilesUnder(spec);
    if (files.length === 0) throw new UsageError(`--calibrate ${spec}: no images (JPEG, PNG, WebP, …) in the folder`);
    const picked = files.filter((_, i) => i % Math.max(1, Math.floor(files.length / count)) === 0).slice(0, count);
    return split(await loadImageBatch(picked, preprocessingFor(weights.usage, spec)));
  }
  const data = await loadDataset(spec, { imageSize: parsePositiveInt('--image-size', o.imageSize) });
  const loader = new DataLoader(subset(data.train, count), {
    batchSize,
    shuffle: false,
    seed: 0,
    dropLast: false,
    prefetch: 0,
    transform: { randomCropPadding: 0, horizontalFlip: false, ...normalisationFor(weights, data.train) },
  });
  const out: Tensor[] = [];
  for await (const b of loader.epoch(0)) out.push(b.x);
  return out;
}
