// `resnext inspect <file>`: what a weights file or checkpoint holds — its format, tensors and
// parameters, what it records about its use (model, input, normalisation, classes), a training
// checkpoint's run position, and which registered models it fits.
import type { Command } from 'commander';
import { isJsonObject, parseJsonStrict } from '../io/json';
import type { WeightsFile } from '../io/weights';
import { isInt8File, readInt8ModelFile } from '../io/int8-weights';
import { readWeightsFile } from '../io/load-save';
import type { InspectJson } from './json-output';
import { modelsFitting } from '../models/from-weights';
import { guarded, printJson } from './util';

const FORMATS: Record<WeightsFile['kind'], string> = {
  zip: 'PyTorch checkpoint (zip, torch.save)',
  pickle: 'PyTorch checkpoint (legacy torch.save)',
  safetensors: 'safetensors',
  checkpoint: 'resnext-ts training checkpoint (safetensors)',
};

function describeFile(path: string): InspectJson {
  const f = readWeightsFile(path);
  // an int8 model file fits the models its float32 equivalent fits
  const int8 = isInt8File(f.metadata) ? readInt8ModelFile(f.tensors, f.metadata, path) : null;
  const state =
    f.kind === 'checkpoint' ? parseJsonStrict(f.metadata.get('run') ?? 'null', `${path}: run metadata`) : null;
  const run = isJsonObject(state) ? state : null;
  return {
    file: path,
    format:
      `${FORMATS[f.kind]}${f.leftOut ? `, ${f.leftOut} optimizer tensors` : ''}` +
      (int8 ? `, int8 model file (resnext quantize): ${int8.quantized.size} convolutions in int8` : ''),
    tensors: f.tensors.size,
    values: [...f.tensors.values()].reduce((a, t) => a + t.numel, 0),
    usage: f.usage,
    run: run && {
      epoch: Number(run.epoch),
      batch: Number(run.batch),
      step: Number(run.step),
      config: run.config as Record<string, unknown>,
    },
    fits: modelsFitting(int8 ? int8.stateDict : f.tensors),
  };
}

/** Registers the inspect command. */
export function registerInspect(program: Command): void {
  program
    .command('inspect <file>')
    .description(
      'summarise a weights file or training checkpoint: format, tensors, model, input, classes, run position, fitting models',
    )
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  resnext inspect runs/fmnist/checkpoint.safetensors')
    .action(
      guarded('inspect', (file: string, o: { json?: boolean }) => {
        const d = describeFile(file);
        if (o.json) {
          printJson(d);
          return;
        }
        const lines = [`${d.file}: ${d.format}`, `  ${d.tensors} tensors, ${d.values.toLocaleString('en-US')} values`];
        if (d.usage.model) lines.push(`  trained as: ${d.usage.model}`);
        const input = d.usage.input;
        if (input) {
          const list = (xs: number[]) => `[${xs.map((x) => x.toFixed(4)).join(', ')}]`;
          lines.push(
            `  input: ${input.channels}x${input.size}x${input.size}, normalised with mean ${list(input.mean)}, std ${list(input.std)}`,
          );
        }
        if (d.usage.classes)
          lines.push(
            `  classes (${d.usage.classes.length}): ${d.usage.classes.slice(0, 10).join(', ')}${d.usage.classes.length > 10 ? ', …' : ''}`,
          );
        if (d.run) {
          const epochs = d.run.config.epochs;
          lines.push(`  run: ${d.run.epoch} of ${epochs} epochs done, next batch ${d.run.batch}, ${d.run.step} steps`);
        }
        lines.push(`  fits: ${d.fits.length ? d.fits.join(', ') : 'no registered model (as is)'}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}
