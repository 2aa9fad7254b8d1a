// ONNX export: trace one eval-mode forward pass on the meta backend (no arithmetic), map each op
// to its ONNX node (opset 13: Conv with group, BatchNormalization, Relu, MaxPool, AveragePool,
// GlobalAveragePool, Add, Flatten/Reshape, Gemm), parameters and running stats become
// initializers named by their state-dict keys, and the model is encoded with onnx-proto (protobufjs).
import { onnx } from 'onnx-proto';
import { metaBackend } from '../backend/meta';
import type { ConvGeometry, PoolGeometry } from '../backend/contract';
import type { Module } from '../nn/module';
import { zeros } from '../tensor/create';
import type { Tensor } from '../tensor/tensor';
import { traceOps, type TracedOp } from '../tensor/trace';
import { VERSION } from '../version';

/** Export options. */
export interface OnnxExportOptions {
  /** Input [N, C, H, W]; N is symbolic ('batch') when dynamicBatch is set. */
  inputShape: number[];
  dynamicBatch?: boolean;
  opset?: number;
  inputName?: string;
  outputName?: string;
}

const A = onnx.AttributeProto.AttributeType;
const ints = (name: string, v: number[]) => ({ name, type: A.INTS, ints: v });
const int = (name: string, v: number) => ({ name, type: A.INT, i: v });
const float = (name: string, v: number) => ({ name, type: A.FLOAT, f: v });

/** Builds the ONNX ModelProto of `model` for an input of `inputShape`. */
function exportOnnxModel(model: Module, opts: OnnxExportOptions): onnx.ModelProto {
  const { inputShape, dynamicBatch = false, opset = 13, inputName = 'input', outputName = 'output' } = opts;
  if (inputShape.length !== 4 || !inputShape.every((d) => Number.isInteger(d) && d > 0))
    throw new Error(`onnx export: input shape [${inputShape}] must be 4 positive integers [N, C, H, W]`);
  const paramNames = new Map<Tensor, string>([...model.stateDict()].map(([k, t]) => [t, k]));
  const names = new Map<Tensor, string>();
  const initializers = new Map<string, Tensor>();
  const nodes: onnx.INodeProto[] = [];
  const input = zeros(inputShape, { backend: metaBackend });
  names.set(input, inputName);
  let counter = 0;
  const nameOf = (t: Tensor | null | undefined): string => {
    if (!t) return '';
    const known = names.get(t);
    if (known) return known;
    const param = paramNames.get(t);
    if (param === undefined)
      throw new Error(
        `onnx export: a tensor of shape [${t.shape}] is neither the input, a parameter or buffer, nor an op result`,
      );
    initializers.set(param, t);
    names.set(t, param);
    return param;
  };
  const node = (
    op: TracedOp,
    opType: string,
    inputs: (Tensor | null | undefined)[],
    attribute: onnx.IAttributeProto[] = [],
  ) => {
    const output = `${opType.toLowerCase()}_${counter++}`;
    nodes.push({ name: output, opType, input: inputs.map(nameOf), output: [output], attribute });
    names.set(op.output, output);
  };
  const onOp = (op: TracedOp) => {
    const [x] = op.inputs,
      a = op.attrs;
    switch (op.op) {
      case 'conv2d': {
        const g = a.geometry as ConvGeometry;
        return node(
          op,
          'Conv',
          [x, a.weight as Tensor, a.bias as Tensor | null],
          [
            ints('kernel_shape', [g.kh, g.kw]),
            ints('strides', [g.strideH, g.strideW]),
            ints('pads', [g.padH, g.padW, g.padH, g.padW]),
            ints('dilations', [g.dilH, g.dilW]),
            int('group', g.groups),
          ],
        );
      }
      case 'batchNorm': {
        if (a.training || !a.weight || !a.bias || !a.runningMean || !a.runningVar)
          throw new Error('onnx export: BatchNorm must be in eval mode with affine parameters and running statistics');
        return node(
          op,
          'BatchNormalization',
          [x, a.weight as Tensor, a.bias as Tensor, a.runningMean as Tensor, a.runningVar as Tensor],
          [float('epsilon', a.eps as number), float('momentum', 1 - (a.momentum as number))],
        );
      }
      case 'relu':
        return node(op, 'Relu', [x]);
      case 'maxPool2d':
      case 'avgPool2d': {
        const g = a.geometry as PoolGeometry;
        const attrs = [
          ints('kernel_shape', [g.kh, g.kw]),
          ints('strides', [g.strideH, g.strideW]),
          ints('pads', [g.padH, g.padW, g.padH, g.padW]),
          int('ceil_mode', a.ceilMode ? 1 : 0),
        ];
        if (op.op === 'avgPool2d') attrs.push(int('count_include_pad', a.countIncludePad ? 1 : 0));
        return node(op, op.op === 'maxPool2d' ? 'MaxPool' : 'AveragePool', [x], attrs);
      }
      case 'adaptiveAvgPool2d': {
        const [oh, ow] = a.outputSize as number[];
        if (oh !== 1 || ow !== 1)
          throw new Error(
            `onnx export: adaptiveAvgPool2d to [${oh}, ${ow}] has no ONNX equivalent; only global pooling (1x1) is exported`,
          );
        return node(op, 'GlobalAveragePool', [x]);
      }
      case 'add':
        if (a.alpha !== 1 || a.beta !== 1)
          throw new Error(`onnx export: scaled add (alpha ${a.alpha}, beta ${a.beta}) is not exported`);
        return node(op, 'Add', [x, op.inputs[1]]);
      case 'reshape': {
        const to = op.output.shape;
        if (to.length === 2 && to[0] === x.shape[0]) return node(op, 'Flatten', [x], [int('axis', 1)]);
        throw new Error(`onnx export: reshape [${x.shape}] → [${to}] is not exported (only flatten from dimension 1)`);
      }
      case 'linear':
        return node(op, 'Gemm', [x, a.weight as Tensor, a.bias as Tensor | null], [int('transB', 1)]);
      default:
        throw new Error(`onnx export: op '${op.op}' has no ONNX mapping`);
    }
  };
  const wasTraining = model.namedModules().map(([, m]) => [m, m.training] as const);
  let output: Tensor;
  try {
    model.eval();
    output = traceOps(onOp, () => model.call(input));
  } finally {
    for (const [m, t] of wasTraining) m.training = t;
  }
  const last = nodes[nodes.length - 1];
  if (!last || names.get(output) !== last.output![0])
    throw new Error('onnx export: the model output is not the last op of the trace');
  last.output = [outputName];
  for (const n of nodes) n.input = n.input!.map((i) => (i === last.name ? outputName : i));
  const dims = (shape: readonly number[]) =>
    shape.map((d, i) => (i === 0 && dynamicBatch ? { dimParam: 'batch' } : { dimValue: d }));
  const valueInfo = (name: string, shape: readonly number[]) => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims(shape) } } },
  });
  return onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'resnext-ts',
    producerVersion: VERSION,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: model.typeName,
      node: nodes,
      initializer: [...initializers].map(([name, t]) => tensorProto(name, t)),
      input: [valueInfo(inputName, inputShape)],
      output: [valueInfo(outputName, output.shape)],
    },
  });
}

/** A float32 (or int64) initializer with little-endian raw data. */
function tensorProto(name: string, t: Tensor): onnx.ITensorProto {
  const v = t.toArray();
  const raw =
    t.dtype === 'int64'
      ? new Uint8Array(BigInt64Array.from(v, (x) => BigInt(x)).buffer)
      : new Uint8Array(Float32Array.from(v).buffer);
  return {
    name,
    dims: [...t.shape],
    dataType: t.dtype === 'int64' ? onnx.TensorProto.DataType.INT64 : onnx.TensorProto.DataType.FLOAT,
    rawData: raw,
  };
}

/** Encodes a model as ONNX bytes. */
function encodeOnnx(model: onnx.ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** A model as the bytes of an .onnx file (the public form: no protobuf types in the signature). */
export function serializeOnnx(model: Module, opts: OnnxExportOptions): Uint8Array {
  return encodeOnnx(exportOnnxModel(model, opts));
}
