// `resnext inspect <file>`: what a weights file or checkpoint holds — its format, tensors and
// parameters, what it records about its use (model, input, normalisation, classes), a training
// checkpoint's run position, and which registered models it fits.
import type { Command } from 'commander';
import { readFileChecked } from '../io/files';
import { isJsonObject, parseJsonStrict } from '../io/json';
import { readSafetensors } from '../io/safetensors';
import { parseUsage, type WeightsUsage } from '../io/usage';
import { parseWeights, sniffWeights } from '../io/weights';
import type { Tensor } from '../tensor/tensor';
import type { InspectJson } from './json-output';
import { modelsFitting } from './model-options';
import { guarded, printJson } from './util';

function describeFile(path: string): InspectJson {
  const buf = readFileChecked(path);
  const kind = sniffWeights(buf);
  let tensors: Map<string, Tensor>, usage: WeightsUsage = {}, run: Record<string, unknown> | null = null, format: string;
  if (kind === 'safetensors') {
    const file = readSafetensors(buf, path);
    usage = parseUsage(file.metadata, path);
    const checkpoint = file.metadata.get('format') === 'resnext-ts-checkpoint';
    format = checkpoint ? 'resnext-ts training checkpoint (safetensors)' : 'safetensors';
    const state = checkpoint ? parseJsonStrict(file.metadata.get('run') ?? 'null', `${path}: run metadata`) : null;
    run = isJsonObject(state) ? state : null;
    tensors = checkpoint ? new Map([...file.tensors].filter(([k]) => k.startsWith('model.')).map(([k, t]) => [k.slice(6), t])) : file.tensors;
    if (checkpoint) format += `, ${file.tensors.size - tensors.size} optimizer tensors`;
  } else {
    tensors = parseWeights(buf, path);
    format = kind === 'zip' ? 'PyTorch checkpoint (zip, torch.save)' : 'PyTorch checkpoint (legacy torch.save)';
  }
  const values = [...tensors.values()].reduce((a, t) => a + t.numel, 0);
  return {
    file: path, format, tensors: tensors.size, values, usage,
    run: run && { epoch: Number(run.epoch), batch: Number(run.batch), step: Number(run.step), config: run.config as Record<string, unknown> },
    fits: modelsFitting(tensors),
  };
}

/** Registers the inspect command. */
export function registerInspect(program: Command): void {
  program.command('inspect <file>')
    .description('summarise a weights file or training checkpoint: format, tensors, model, input, classes, run position, fitting models')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExample:\n  resnext inspect runs/fmnist/checkpoint.safetensors')
    .action(guarded('inspect', (file: string, o: { json?: boolean }) => {
      const d = describeFile(file);
      if (o.json) { printJson(d); return; }
      const lines = [`${d.file}: ${d.format}`, `  ${d.tensors} tensors, ${d.values.toLocaleString('en-US')} values`];
      if (d.usage.model) lines.push(`  trained as: ${d.usage.model}`);
      const input = d.usage.input;
      if (input) {
        const list = (xs: number[]) => `[${xs.map((x) => x.toFixed(4)).join(', ')}]`;
        lines.push(`  input: ${input.channels}x${input.size}x${input.size}, normalised with mean ${list(input.mean)}, std ${list(input.std)}`);
      }
      if (d.usage.classes) lines.push(`  classes (${d.usage.classes.length}): ${d.usage.classes.slice(0, 10).join(', ')}${d.usage.classes.length > 10 ? ', …' : ''}`);
      if (d.run) {
        const epochs = d.run.config.epochs;
        lines.push(`  run: ${d.run.epoch} of ${epochs} epochs done, next batch ${d.run.batch}, ${d.run.step} steps`);
      }
      lines.push(`  fits: ${d.fits.length ? d.fits.join(', ') : 'no registered model (as is)'}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }));
}
