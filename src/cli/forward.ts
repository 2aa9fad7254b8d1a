// `resnext forward <model> --weights W --input x.npy --output y.npy [--eval]`: one forward pass
// on tensors passed in and out as .npy, for scripts and for comparing with PyTorch.
import type { Command } from 'commander';
import { noGrad } from '../autograd/engine';
import { loadNpy, saveNpy } from '../io/load-save';
import { readWeightsFile } from '../io/load-save';
import { tensor } from '../tensor/create';
import { addModelFlags, checkInput, type ModelFlags, modelWithWeights, parseModelFlags } from './model-options';
import { checkOutput, guarded, UsageError } from './util';
import { prepareForInference } from '../nn/inference';

/** Registers the forward command. */
export function registerForward(program: Command): void {
  addModelFlags(
    program
      .command('forward <model>')
      .description('run a model on an .npy input and write its output as .npy')
      .requiredOption('--weights <file>', 'weights: .safetensors, or a PyTorch .pth/.pt (zip or legacy)')
      .requiredOption('--input <file>', 'input batch [N, C, H, W] as .npy (float32 or float64)')
      .requiredOption('--output <file>', 'where to write the output .npy (float32)')
      .option(
        '--eval',
        'evaluation mode: BatchNorm uses running statistics (default: training mode, batch statistics)',
      ),
  )
    .addHelpText(
      'after',
      '\nExample:\n  resnext forward resnext50_32x4d --weights r50.safetensors --input x.npy --output logits.npy --eval',
    )
    .action(
      guarded(
        'forward',
        (name: string, o: ModelFlags & { weights: string; input: string; output: string; eval?: boolean }) => {
          checkOutput(o.output, '.npy', 'a NumPy .npy array', [o.weights, o.input]);
          const model = prepareForInference(modelWithWeights(name, readWeightsFile(o.weights).tensors, o, o.weights));
          const x = loadNpy(o.input);
          if (x.dtype === 'int64') throw new UsageError(`${o.input}: input must be float32 or float64, got int64`);
          if (x.ndim !== 4)
            throw new UsageError(`${o.input}: input must be 4-D [N, C, H, W], got shape [${x.shape.join(', ')}]`);
          checkInput(name, [...x.shape], parseModelFlags(o));
          model.train(!o.eval);
          const input = x.dtype === 'float32' ? x : tensor(x.toArray(), x.shape, { dtype: 'float32' });
          const y = noGrad(() => model.call(input));
          saveNpy(o.output, y);
          process.stdout.write(`wrote output [${y.shape.join(', ')}] to ${o.output}\n`);
        },
      ),
    );
}
