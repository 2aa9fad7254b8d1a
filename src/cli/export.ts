// `resnext export <model> [--weights W] --onnx out.onnx [--batch-size dynamic|N]`: a standard ONNX graph.
import type { Command } from 'commander';
import { readWeightsFile, saveOnnx } from '../io/load-save';
import { createModel, modelName } from '../models/registry';
import {
  addModelFlags,
  checkInput,
  type ModelFlags,
  modelWithWeights,
  parseInputShape,
  parseModelFlags,
} from './model-options';
import { addBatchSizeOption, batchSizeOption, checkOutput, guarded, parsePositiveInt } from './util';

/** Registers the export command. */
export function registerExport(program: Command): void {
  addModelFlags(
    addBatchSizeOption(
      program.command('export <model>'),
      "batch size, or 'dynamic' for a symbolic batch dimension",
      'dynamic',
    )
      .description('export a model (eval mode) to ONNX, opset 13')
      .requiredOption('--onnx <file>', 'where to write the .onnx file')
      .option('--weights <file>', 'weights to export (default: freshly initialised, seed 0)')
      .option('--input <shape>', "C,H,W (or N,C,H,W for a fixed batch) (default: the model's native size)"),
  )
    .addHelpText(
      'after',
      '\nExample:\n  resnext export resnext50_32x4d --weights r50.safetensors --onnx r50.onnx --batch-size dynamic',
    )
    .action(
      guarded(
        'export',
        (
          name: string,
          o: ModelFlags & { onnx: string; weights?: string; batchSize: string; batch?: string; input?: string },
          cmd: Command,
        ) => {
          checkOutput(o.onnx, '.onnx', 'an ONNX model', [o.weights]);
          // weights from a `resnext train` run give the input they were trained on (e.g. 1x28x28)
          const weights = o.weights ? readWeightsFile(o.weights) : null;
          const b = batchSizeOption(o, cmd);
          const dynamic = b.text === 'dynamic';
          const size = dynamic ? 1 : parsePositiveInt(b.flag, b.text);
          const [batch, ...chw] = parseInputShape(
            name,
            o.input,
            { size, flag: b.flag, explicit: b.explicit },
            weights?.usage.input,
          );
          checkInput(name, [batch, ...chw], parseModelFlags(o));
          const model = weights
            ? modelWithWeights(name, weights.tensors, o, o.weights!)
            : createModel(modelName(name), { seed: 0, inChannels: chw[0], ...parseModelFlags(o) });
          saveOnnx(o.onnx, model, { inputShape: [batch, ...chw], dynamicBatch: dynamic });
          process.stdout.write(
            `wrote ${o.onnx} (input 'input' [${dynamic ? 'batch' : batch}, ${chw.join(', ')}], output 'output')\n`,
          );
        },
      ),
    );
}
