// int8 model files (`resnext quantize`): safetensors with format 'resnext-ts-int8'. Each quantised
// Conv2d → BatchNorm2d pair is stored as `<conv>.weight` (I8 integers), `<conv>.weight_scale` (F32,
// one per output channel) and `<conv>.folded_bias` (F32), its batch norm's affine parameters and
// statistics left out; the activation scales are JSON in the `int8` metadata entry; every other
// tensor is stored as the model has it. Reading expands the file into (1) a float32 state dict that
// loads strictly into the model (dequantised weights, identity batch norms carrying the folded
// bias: the same network in float32) and (2) the int8 table inference runs.
import { tensor } from '../tensor/create';
import type { Tensor } from '../tensor/tensor';
import type { QuantizedConv } from '../nn/inference';
import type { Module } from '../nn/module';
import { convBatchNormPairs, int8Params, type ActivationScale } from '../nn/quantize';
import { failFor } from './errors';
import { isJsonObject, parseJsonStrict } from './json';

/** The `format` metadata of an int8 model file. */
export const INT8_FORMAT = 'resnext-ts-int8';

/** What the `int8` metadata entry records per quantised convolution. */
interface Int8Entry {
  bn: string;
  eps: number;
  convBias: boolean;
  src: [number, boolean];
  dst: [number, boolean];
  residual: [number, boolean] | null;
}

/** The tensors, metadata and I8 tensor names of `model` with `quantized` convolutions (see the header). */
export function int8ModelFile(
  model: Module,
  quantized: ReadonlyMap<string, QuantizedConv>,
  metadata: ReadonlyMap<string, string>,
): { tensors: Map<string, Tensor>; metadata: Map<string, string>; int8: Set<string> } {
  const pairs = convBatchNormPairs(model);
  const entries: Record<string, Int8Entry> = {};
  const dropped = new Set<string>();
  const tensors = new Map<string, Tensor>();
  const int8 = new Set<string>();
  for (const [name, q] of quantized) {
    const p = pairs.get(name);
    if (!p) throw new Error(`int8 file: '${name}' is not a Conv2d followed by a BatchNorm2d in this model`);
    for (const k of ['weight', 'bias', 'running_mean', 'running_var']) dropped.add(`${p.bnName}.${k}`);
    dropped.add(`${name}.bias`);
    const params = q.params;
    entries[name] = {
      bn: p.bnName,
      eps: p.bn.eps,
      convBias: p.conv.bias !== null,
      src: [params.srcScale, params.srcSigned],
      dst: [params.dstScale, params.dstSigned],
      residual: [params.residualScale, params.residualSigned],
    };
    tensors.set(`${name}.weight`, q.weight);
    int8.add(`${name}.weight`);
    tensors.set(`${name}.weight_scale`, tensor(params.weightScales, [params.weightScales.length]));
    tensors.set(`${name}.folded_bias`, q.bias);
  }
  for (const [k, t] of model.stateDict()) if (!dropped.has(k) && !tensors.has(k)) tensors.set(k, t);
  const meta = new Map(metadata);
  meta.set('format', INT8_FORMAT);
  meta.set('int8', JSON.stringify(entries));
  return { tensors, metadata: meta, int8 };
}

/** Whether a weights file's metadata marks it as an int8 model file. */
export function isInt8File(metadata: ReadonlyMap<string, string>): boolean {
  return metadata.get('format') === INT8_FORMAT;
}

function scaleOf(v: unknown, what: string, fail: (m: string) => never): ActivationScale {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'number' || !(v[0] > 0) || typeof v[1] !== 'boolean')
    fail(`int8 metadata: ${what} must be [positive scale, signed], got ${JSON.stringify(v)}`);
  return { scale: v[0], signed: v[1] };
}

/** Expands an int8 model file into a float32 state dict and the int8 table (see the header). */
export function readInt8ModelFile(
  tensors: ReadonlyMap<string, Tensor>,
  metadata: ReadonlyMap<string, string>,
  source: string,
): { stateDict: Map<string, Tensor>; quantized: Map<string, QuantizedConv> } {
  const fail = failFor(source);
  const raw = parseJsonStrict(metadata.get('int8') ?? '', `${source}: int8 metadata`);
  if (!isJsonObject(raw)) return fail('int8 metadata must be a JSON object of convolutions');
  const stateDict = new Map(tensors);
  const quantized = new Map<string, QuantizedConv>();
  for (const [name, e] of Object.entries(raw)) {
    if (!isJsonObject(e) || typeof e.bn !== 'string' || typeof e.eps !== 'number' || typeof e.convBias !== 'boolean')
      return fail(`int8 metadata for '${name}' must have bn, eps and convBias`);
    const take = (k: string): Tensor => {
      const t = tensors.get(k);
      if (!t) return fail(`int8 model file has no tensor '${k}'`);
      stateDict.delete(k);
      return t;
    };
    const weight = take(`${name}.weight`),
      scales = Float32Array.from(take(`${name}.weight_scale`).toArray()),
      bias = take(`${name}.folded_bias`);
    const o = weight.shape[0];
    if (scales.length !== o || bias.numel !== o)
      return fail(`'${name}': ${o} output channels but ${scales.length} weight scales and ${bias.numel} biases`);
    const q = weight.toArray();
    if (q.some((v) => !Number.isInteger(v) || v < -127 || v > 127))
      return fail(`'${name}.weight' must hold integers in [-127, 127]`);
    const per = q.length / o;
    // the float32 network the int8 one approximates: dequantised weights, an identity batch norm adding the bias
    stateDict.set(
      `${name}.weight`,
      tensor(
        Float32Array.from(q, (v, i) => v * scales[Math.floor(i / per)]),
        [...weight.shape],
      ),
    );
    if (e.convBias) stateDict.set(`${name}.bias`, tensor(new Float32Array(o), [o]));
    stateDict.set(`${e.bn}.weight`, tensor(new Float32Array(o).fill(1), [o]));
    stateDict.set(`${e.bn}.bias`, bias);
    stateDict.set(`${e.bn}.running_mean`, tensor(new Float32Array(o), [o]));
    stateDict.set(`${e.bn}.running_var`, tensor(new Float32Array(o).fill(1 - e.eps), [o]));
    const residual = e.residual === null ? null : scaleOf(e.residual, `'${name}'.residual`, fail);
    quantized.set(name, {
      weight,
      bias,
      params: int8Params(
        scales,
        scaleOf(e.src, `'${name}'.src`, fail),
        scaleOf(e.dst, `'${name}'.dst`, fail),
        residual,
      ),
    });
  }
  return { stateDict, quantized };
}
