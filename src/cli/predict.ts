// `resnext predict <model> --weights W <image…> [--top 5] [--json] [--features out.npy]`: ImageNet
// classification (or pooled embeddings) of image files with torchvision's preprocessing.
import type { Command } from 'commander';
import { loadImageBatch } from '../data/image';
import { saveNpy } from '../io/load-save';
import { classify, preprocessingFor } from '../models/predict';
import { addModelFlags, type ModelFlags } from './model-options';
import { addPrecisionOption, loadInferenceModel } from './precision';
import type { PredictJson } from './json-output';
import { checkOutput, guarded, parsePositiveInt, printJson } from './util';
import { prepareForInference } from '../nn/inference';

/** Registers the predict command. */
export function registerPredict(program: Command): void {
  addPrecisionOption(
    addModelFlags(
      program
        .command('predict <model> <images...>')
        .description(
          'classify images (JPEG, PNG, WebP, …) as the weights were trained (a `resnext train` run records its input size, ' +
            "channels, normalisation and class names), else with torchvision's ImageNet preprocessing: resize 256, center-crop 224, normalise",
        )
        .requiredOption('--weights <file>', "trained weights: .safetensors or a PyTorch .pth (e.g. torchvision's)")
        .option('--top <k>', 'how many classes to show per image', '5')
        .option('--json', 'print predictions as JSON')
        .option('--features <file>', 'also write the pooled embeddings [N, C] to this .npy file'),
    ),
  )
    .addHelpText(
      'after',
      '\nAn image that cannot be decoded is an error (exit 2) naming the file.\n\nExample:\n  resnext predict resnext50_32x4d --weights resnext50_32x4d-7cdf4587.pth cat.jpg dog.png --top 3',
    )
    .action(
      guarded(
        'predict',
        async (
          name: string,
          images: string[],
          o: ModelFlags & { weights: string; top: string; json?: boolean; features?: string; precision?: string },
        ) => {
          if (o.features) checkOutput(o.features, '.npy', 'a NumPy .npy array', [o.weights, ...images]);
          const { model, weights, inference } = loadInferenceModel(name, o.weights, o);
          prepareForInference(model, inference).eval();
          // weights that record their input (a `resnext train` run) are fed as trained; others as torchvision's ImageNet models
          const batch = await loadImageBatch(images, preprocessingFor(weights.usage, o.weights));
          const { top, features } = classify(model, batch, parsePositiveInt('--top', o.top), weights.usage);
          const results: PredictJson = images.map((image, n) => ({ image, top: top[n] }));
          if (o.features) saveNpy(o.features, features);
          if (o.json) {
            printJson(results);
            return;
          }
          for (const r of results) {
            process.stdout.write(
              `${r.image}\n${r.top.map((t, j) => `  ${String(j + 1).padStart(2)}  ${(100 * t.probability).toFixed(2).padStart(6)}%  ${t.label} (${t.index})`).join('\n')}\n`,
            );
          }
        },
      ),
    );
}
