// `resnext forward <model> --weights W --input-npy x.npy --output y.npy [--eval]`: one forward pass
// on tensors passed in and out as .npy, for scripts and for comparing with PyTorch. (`--input` is a
// shape in every other command; here it stays as a hidden alias of --input-npy for old scripts.)
import { type Command, Option } from 'commander';
import { noGrad } from '../autograd/engine';
import { loadNpy, saveNpy } from '../io/load-save';
import { prepareForInference } from '../nn/inference';
import { tensor } from '../tensor/create';
import { addModelFlags, checkInput, type ModelFlags, parseModelFlags } from './model-options';
import { addPrecisionOption, loadInferenceModel, parsePrecision } from './precision';
import { checkOutput, guarded, UsageError } from './util';

/** Registers the forward command. */
export function registerForward(program: Command): void {
  addPrecisionOption(
    addModelFlags(
      program
        .command('forward <model>')
        .description('run a model on an .npy input and write its output as .npy')
        .requiredOption('--weights <file>', 'weights: .safetensors, or a PyTorch .pth/.pt (zip or legacy)')
        .option('--input-npy <file>', 'input batch [N, C, H, W] as .npy (float32 or float64)')
        .addOption(new Option('--input <file>').hideHelp())
        .requiredOption('--output <file>', 'where to write the output .npy (float32)')
        .option(
          '--eval',
          'evaluation mode: BatchNorm uses running statistics (default: training mode, batch statistics)',
        ),
    ),
    'int8 for weights made by `resnext quantize` (with --eval), else fp32',
  )
    .addHelpText(
      'after',
      '\nExample:\n  resnext forward resnext50_32x4d --weights r50.safetensors --input-npy x.npy --output logits.npy --eval',
    )
    .action(
      guarded(
        'forward',
        (
          name: string,
          o: ModelFlags & {
            weights: string;
            inputNpy?: string;
            input?: string;
            output: string;
            eval?: boolean;
            precision?: string;
          },
        ) => {
          const file = inputFile(o);
          checkOutput(o.output, '.npy', 'a NumPy .npy array', [o.weights, file]);
          // bf16 and int8 are fused inference: BatchNorm with running statistics
          if (!o.eval && (parsePrecision(o.precision) ?? 'fp32') !== 'fp32')
            throw new UsageError(`--precision ${o.precision} runs inference only; add --eval`);
          const { model, inference } = loadInferenceModel(name, o.weights, o.eval ? o : { ...o, precision: 'fp32' });
          prepareForInference(model, inference);
          const x = loadNpy(file);
          if (x.dtype === 'int64') throw new UsageError(`${file}: input must be float32 or float64, got int64`);
          if (x.ndim !== 4)
            throw new UsageError(`${file}: input must be 4-D [N, C, H, W], got shape [${x.shape.join(', ')}]`);
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

/** The input file: --input-npy, or the old --input when it names a file rather than a shape. */
function inputFile(o: { inputNpy?: string; input?: string }): string {
  if (o.inputNpy !== undefined) return o.inputNpy;
  if (o.input === undefined) throw new UsageError('missing --input-npy <file>: the input batch [N, C, H, W] as .npy');
  if (/^[0-9]+(,[0-9]+)*$/.test(o.input.trim())) {
    throw new UsageError(`--input ${o.input}: forward reads its input from a file; pass --input-npy x.npy`);
  }
  return o.input;
}
