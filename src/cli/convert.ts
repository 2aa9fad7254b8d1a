// `resnext convert <in> <out.safetensors> [--model M]`: a PyTorch checkpoint (zip or legacy) or
// safetensors file to safetensors, optionally checked key by key and shape by shape against a model.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { readWeightsFile, saveSafetensors } from '../io/load-save';
import { usageMetadata } from '../io/usage';
import { addModelFlags, modelWithWeights, type ModelFlags } from './model-options';
import { checkOutput, guarded } from './util';

/** Registers the convert command. */
export function registerConvert(program: Command): void {
  addModelFlags(
    program
      .command('convert <input> <output>')
      .description('convert a PyTorch checkpoint (.pth/.pt, zip or legacy) or safetensors file to safetensors')
      .option('--model <name>', 'check every key and shape against this registered model first'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  resnext convert resnext50_32x4d-7cdf4587.pth resnext50_32x4d.safetensors --model resnext50_32x4d',
    )
    .action(
      guarded('convert', (input: string, output: string, o: ModelFlags & { model?: string }) => {
        checkOutput(output, '.safetensors', 'safetensors', [input]);
        // a large file takes seconds to read: say so first
        const bytes = statSync(input, { throwIfNoEntry: false })?.size ?? 0;
        if (bytes > 20e6) process.stderr.write(`reading ${input} (${(bytes / 1e6).toFixed(0)} MB)…\n`);
        // a training checkpoint converts to its model tensors; recorded usage (input, classes) is kept
        const { tensors, usage } = readWeightsFile(input);
        if (o.model) modelWithWeights(o.model, tensors, o, input, true);
        saveSafetensors(output, tensors, {
          format: 'pt',
          source: basename(input),
          ...usageMetadata({ ...usage, model: o.model ?? usage.model }),
        });
        process.stdout.write(
          `wrote ${tensors.size} tensors to ${output}${o.model ? ` (checked against ${o.model})` : ''}\n`,
        );
      }),
    );
}
