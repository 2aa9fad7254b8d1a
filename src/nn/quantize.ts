// Post-training static int8 quantisation of a model's fused convolutions: calibrate() runs sample
// batches through the float32 fused plan and records each convolution's input, residual and output
// ranges; quantizeModel() folds each batch norm into its convolution, quantises the weight per output
// channel (symmetric, integers in [-127, 127]) and gives every activation one scale: its largest
// magnitude over 255 steps (u8, when it was never negative) or 127 (s8). A tensor read by several
// convolutions (a block's input: conv1 and the shortcut) gets the same scale in each, so int8
// activations pass between convolutions without requantisation.
import { noGrad } from '../autograd/engine';
import type { Int8Conv } from '../backend/contract';
import { tensor } from '../tensor/create';
import type { Tensor } from '../tensor/tensor';
import { roundHalfEven } from '../backend/rounding';
import { BatchNorm2d, Conv2d } from './layers';
import type { Module } from './module';
import { foldBatchNorm, prepareForInference, type QuantizedConv } from './inference';

/** The smallest value and largest magnitude an activation took during calibration. */
export interface ActivationRange {
  min: number;
  absMax: number;
}

/** A fused convolution's observed ranges. */
export interface ConvRanges {
  input: ActivationRange;
  output: ActivationRange;
  residual: ActivationRange | null;
}

/** An activation's int8 encoding: the real value of one step, and u8 (unsigned) or s8. */
export interface ActivationScale {
  scale: number;
  signed: boolean;
}

function widen(range: ActivationRange | null, t: Tensor): ActivationRange {
  const r = range ?? { min: Number.POSITIVE_INFINITY, absMax: 0 };
  for (const v of t.toArray()) {
    if (v < r.min) r.min = v;
    const a = Math.abs(v);
    if (a > r.absMax) r.absMax = a;
  }
  return r;
}

/**
 * Runs `batches` through `model` (eval mode, no autograd, float32 fused plan) and returns the
 * ranges of every fused convolution by module name. The model keeps a float32 plan afterwards.
 */
export function calibrate(model: Module, batches: Iterable<Tensor>): Map<string, ConvRanges> {
  const names = new Map<Module, string>([...model.namedModules()].map(([n, m]) => [m, n]));
  const ranges = new Map<string, ConvRanges>();
  model.eval();
  prepareForInference(model, {
    observe: (conv, x, residual, y) => {
      const name = names.get(conv) ?? '';
      const r = ranges.get(name);
      ranges.set(name, {
        input: widen(r?.input ?? null, x),
        output: widen(r?.output ?? null, y),
        residual: residual ? widen(r?.residual ?? null, residual) : null,
      });
    },
  });
  let seen = 0;
  noGrad(() => {
    for (const x of batches) {
      model.call(x);
      seen++;
    }
  });
  prepareForInference(model);
  if (seen === 0) throw new Error('calibrate: no calibration batches');
  if (ranges.size === 0) throw new Error('calibrate: the model has no Conv2d → BatchNorm2d pairs to quantise');
  return ranges;
}

/** An activation's scale from its range (float32 numbers, so they round-trip through a file exactly). */
export function activationScale(r: ActivationRange): ActivationScale {
  const signed = r.min < 0;
  return { scale: r.absMax > 0 ? Math.fround(r.absMax / (signed ? 127 : 255)) : 1, signed };
}

let nextId = 1;
/** The int8 parameters of one convolution (a fresh id: backends key prepared plans by it). */
export function int8Params(
  weightScales: Float32Array,
  src: ActivationScale,
  dst: ActivationScale,
  residual: ActivationScale | null,
): Int8Conv {
  return {
    kind: 'int8',
    id: nextId++,
    srcScale: src.scale,
    srcSigned: src.signed,
    dstScale: dst.scale,
    dstSigned: dst.signed,
    residualScale: residual?.scale ?? 1,
    residualSigned: residual?.signed ?? false,
    weightScales,
  };
}

/** A folded weight [O, …] quantised per output channel: integers in [-127, 127] and O scales. */
export function quantizeWeight(w: ArrayLike<number>, outChannels: number): { q: Float32Array; scales: Float32Array } {
  const per = w.length / outChannels;
  const q = new Float32Array(w.length),
    scales = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    let m = 0;
    for (let i = o * per; i < (o + 1) * per; i++) m = Math.max(m, Math.abs(w[i]));
    const s = m > 0 ? Math.fround(m / 127) : 1;
    scales[o] = s;
    for (let i = o * per; i < (o + 1) * per; i++) q[i] = Math.max(-127, Math.min(127, roundHalfEven(w[i] / s)));
  }
  return { q, scales };
}

/** The batch norm that follows each convolution in the fused plan (the pairs quantize() folds). */
export function convBatchNormPairs(model: Module): Map<string, { conv: Conv2d; bn: BatchNorm2d; bnName: string }> {
  const mods = [...model.namedModules()];
  const pairs = new Map<string, { conv: Conv2d; bn: BatchNorm2d; bnName: string }>();
  for (let i = 0; i + 1 < mods.length; i++) {
    const [name, conv] = mods[i],
      [bnName, bn] = mods[i + 1];
    if (conv instanceof Conv2d && bn instanceof BatchNorm2d) pairs.set(name, { conv, bn, bnName });
  }
  return pairs;
}

/**
 * Quantises every calibrated Conv2d → BatchNorm2d pair of `model` (see the file header) into the
 * table prepareForInference(model, {precision: 'int8', quantized}) runs.
 */
export function quantizeModel(model: Module, ranges: ReadonlyMap<string, ConvRanges>): Map<string, QuantizedConv> {
  const out = new Map<string, QuantizedConv>();
  for (const [name, { conv, bn }] of convBatchNormPairs(model)) {
    const r = ranges.get(name);
    if (!r || !bn.runningMean) continue;
    const folded = foldBatchNorm(conv, bn, conv.weight);
    const { q, scales } = quantizeWeight(folded.weight.toArray(), conv.outChannels);
    const like = conv.weight;
    out.set(name, {
      weight: tensor(q, [...like.shape], { backend: like.backend }),
      bias: tensor(Float32Array.from(folded.bias.toArray()), [conv.outChannels], { backend: like.backend }),
      params: int8Params(
        scales,
        activationScale(r.input),
        activationScale(r.output),
        r.residual && activationScale(r.residual),
      ),
    });
  }
  return out;
}
