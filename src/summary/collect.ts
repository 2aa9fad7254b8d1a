// Runs a model once on the meta backend with hooks on every module and records one row per
// module call, in execution order, with torchinfo's statistics (params, mult-adds, sizes).
import { metaBackend } from '../backend/meta';
import type { DType } from '../backend/contract';
import { Conv2d } from '../nn/layers';
import type { Module } from '../nn/module';
import { zeros } from '../tensor/create';
import { formatShape, numel } from '../tensor/shape';

/** One module call, as torchinfo's LayerInfo. */
export interface LayerRow {
  /** Class name (PyTorch's). */
  className: string;
  /** Attribute path from the root ('' for the root). */
  varName: string;
  depth: number;
  /** Per-depth running counter (torchinfo's "depth-idx"); 0 for the root. */
  depthIndex: number;
  inputShape: number[];
  outputShape: number[];
  /** Stride of a conv or pooling layer, else null. */
  stride: [number, number] | null;
  /** Kernel size as the module stores it ([kh, kw] for convs, an int for pools given one), or null. */
  kernelSize: number | number[] | null;
  /** Parameters of the module's whole subtree. */
  numParams: number;
  trainableParams: number;
  /** Parameters the module owns directly (not through children). */
  ownParams: number;
  paramBytes: number;
  outputBytes: number;
  /** Mult-adds of a leaf layer (torchinfo's rule). */
  multAdds: number;
  isLeaf: boolean;
  /** The same module object already appeared in an earlier row. */
  isRecursive: boolean;
}

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int64: 8 };

function ownParamCount(m: Module): number {
  const childParams = new Set(m.namedChildren().flatMap(([, c]) => c.parameters()));
  return m
    .parameters()
    .filter((p) => !childParams.has(p))
    .reduce((s, p) => s + p.numel, 0);
}

/**
 * torchinfo's mult-adds: conv = (weight+bias elements)·N·H_out·W_out;
 * any other leaf with weight/bias = N·(weight+bias elements); layers without parameters count 0.
 */
function multAddsOf(m: Module, paramCount: number, out: readonly number[]): number {
  if (paramCount === 0) return 0;
  return m instanceof Conv2d ? paramCount * out[0] * numel(out.slice(2)) : paramCount * out[0];
}

/** Every row of one forward pass of `model` on a meta input of `inputSize`. */
export function collectRows(model: Module, inputSize: readonly number[], dtype: DType = 'float32'): LayerRow[] {
  const rows: LayerRow[] = [];
  const stack: LayerRow[] = [];
  const seen = new Set<Module>();
  const counters = new Map<number, number>();
  const paths = new Map(model.namedModules().map(([path, m]) => [m, path] as const));
  const handles = model.namedModules().flatMap(([, m]) => [
    m.registerForwardPreHook((mod, inputs) => {
      const depth = stack.length;
      const depthIndex = depth === 0 ? 0 : (counters.get(depth) ?? 0) + 1;
      counters.set(depth, depthIndex);
      const params = mod.parameters();
      const numParams = params.reduce((s, p) => s + p.numel, 0);
      const { kernelSize: k, stride } = mod as unknown as { kernelSize?: number | number[]; stride?: [number, number] };
      const row: LayerRow = {
        className: mod.typeName,
        varName: paths.get(mod) ?? '',
        depth,
        depthIndex,
        inputShape: [...inputs[0].shape],
        outputShape: [],
        kernelSize: k === undefined ? null : Array.isArray(k) ? [...k] : k,
        stride: stride ? [stride[0], stride[1]] : null,
        numParams,
        trainableParams: params.filter((p) => p.requiresGrad).reduce((s, p) => s + p.numel, 0),
        ownParams: ownParamCount(mod),
        paramBytes: params.reduce((s, p) => s + p.numel * BYTES[p.dtype], 0),
        outputBytes: 0,
        multAdds: 0,
        isLeaf: mod.namedChildren().length === 0,
        isRecursive: seen.has(mod),
      };
      seen.add(mod);
      rows.push(row);
      stack.push(row);
    }),
    m.registerForwardHook((mod, _inputs, output) => {
      const row = stack.pop()!;
      row.outputShape = [...output.shape];
      row.outputBytes = output.numel * BYTES[output.dtype];
      if (row.isLeaf) row.multAdds = multAddsOf(mod, row.numParams, row.outputShape);
    }),
  ]);
  const wasTraining = model.namedModules().map(([, m]) => [m, m.training] as const);
  try {
    model.eval();
    model.call(zeros(inputSize, { backend: metaBackend, dtype }));
  } finally {
    for (const h of handles) h.remove();
    for (const [m, t] of wasTraining) m.training = t;
  }
  return rows;
}

/**
 * Warnings for an input too small for the network: a strided layer whose input is already smaller
 * than its stride no longer downsamples (e.g. under 32x32 for the ImageNet ResNets). PyTorch runs
 * such inputs, so every command runs them too, and says so.
 */
export function downsamplingWarnings(rows: readonly LayerRow[], inputSize: readonly number[]): string[] {
  for (const row of rows) {
    if (!row.stride || row.inputShape.length !== 4) continue;
    const [, , h, w] = row.inputShape,
      [sh, sw] = row.stride;
    if ((sh > 1 && h < sh) || (sw > 1 && w < sw)) {
      return [
        `input ${formatShape(inputSize)} is small for this network: ${row.className} '${row.varName}' has stride ${sh}x${sw} ` +
          `but receives a ${h}x${w} map, so it no longer downsamples`,
      ];
    }
  }
  return [];
}
