// Inference planning, kept out of the model files: prepareForInference(model) gives each Sequential,
// residual block and classifier a plan that runs Conv2d → BatchNorm2d (→ + residual) (→ ReLU) as one
// convolution, the batch norm folded into its weight and bias and the add and ReLU as the kernel's
// epilogue. A plan runs only in eval mode with autograd off, outside a trace and without hooks on
// the modules involved; everywhere else the modules run one by one, exactly as written. Folded
// weights are cached per conv until a parameter or statistic changes (storage or version). Inside a
// step scope a plan gives its intermediates back to the buffer pool as soon as they are read.
import type { Int8Conv, LowPrecision } from '../backend/contract';
import { isGradEnabled } from '../autograd/engine';
import { conv2dFused } from '../tensor/ops/conv';
import { add } from '../tensor/ops/elementwise';
import { flatten } from '../tensor/ops/shape';
import { isTracing } from '../tensor/trace';
import { memoryOf, type Tensor } from '../tensor/tensor';
import { ImageClassifier } from './classifier';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm2d,
  Conv2d,
  Flatten,
  Identity,
  Linear,
  MaxPool2d,
  ReLU,
} from './layers';
import { type Module, setInferencePlan } from './module';
import { ResidualBlock } from './residual';
import { Sequential } from './sequential';

/** The arithmetic of fused inference convolutions (float32 unless a plan says otherwise). */
export type InferencePrecision = 'fp32' | 'bf16' | 'int8';

/** One convolution quantised to int8 (nn/quantize.ts makes them): its integer weight, folded bias, scales. */
export interface QuantizedConv {
  /** Integers in [-127, 127], shape of the conv's weight. */
  weight: Tensor;
  /** The batch norm folded into the bias (float32). */
  bias: Tensor;
  /** The int8 arithmetic of the fused convolution (contract.ts Int8Conv). */
  params: Int8Conv;
}

/** How prepareForInference runs the fused convolutions. */
export interface InferenceOptions {
  /** 'bf16': every fused convolution in bf16; 'int8': those in `quantized` in int8, the rest in float32. */
  precision?: InferencePrecision;
  /** int8 convolutions by the conv's module name (e.g. 'layer1.0.conv1'). */
  quantized?: ReadonlyMap<string, QuantizedConv>;
  /** Called with every fused convolution's operands and output (calibration observes ranges). */
  observe?: (conv: Conv2d, x: Tensor, residual: Tensor | null, y: Tensor) => void;
}

/** Per plan: how its convolutions run (the options, with the int8 table keyed by module). */
interface FusionContext {
  bf16: boolean;
  int8: ReadonlyMap<Conv2d, QuantizedConv>;
  observe: InferenceOptions['observe'] | null;
}

/**
 * What follows the batch norm: an optional residual (computed lazily, in module order) and an
 * optional ReLU; `consumed` is told the residual and the output once the convolution has used it.
 */
interface Epilogue {
  residual?: (() => Tensor) | null;
  relu?: ReLU | null;
  consumed?: (residual: Tensor, y: Tensor) => void;
}

/** Modules whose forward keeps no reference to its input (a fused plan's Sequentials and blocks run these rules too). */
const KEEPS_NO_INPUT = [
  Conv2d,
  BatchNorm2d,
  ReLU,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  Linear,
  Flatten,
  Identity,
  Sequential,
  ResidualBlock,
];

/**
 * Gives an intermediate of a plan back to the step's buffer pool once its last reader has run, so
 * the next output of its size reuses the array: a step then holds only the activations still to be
 * read, not every one it made (ResNeXt-50 at batch 8: 67 instead of 417 MiB of live outputs, peak
 * RSS 530 instead of 813–829 MiB). Not when `live` shares its memory (a view or the input passed
 * through), nor while an observer (calibration) is handed the outputs. The pool ignores arrays it
 * did not hand out in an open step scope.
 */
function recycle(dead: Tensor, ctx: FusionContext, ...live: Tensor[]): void {
  if (ctx.observe || live.some((t) => memoryOf(t) === memoryOf(dead))) return;
  dead.backend.bufferScope?.release?.(dead.storage);
}

/**
 * How many fused plans are running now. Inside one, a submodule's plan applies without checking
 * again: the outer check already covered every descendant, and nothing changes mid-forward.
 */
let fusedDepth = 0;

/** Whether `root`'s submodules may run fused on input x (root's own hooks have already run). */
function fusionApplies(x: Tensor, root: Module): boolean {
  if (fusedDepth > 0) return true;
  if (isGradEnabled() || isTracing() || !x.backend.hasData) return false;
  return !root.someDescendant((m) => m.training || m.hasHooks());
}

/** `run` counted in fusedDepth while it runs. */
function fused(run: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  return (x) => {
    fusedDepth++;
    try {
      return run(x);
    } finally {
      fusedDepth--;
    }
  };
}

const BF16: LowPrecision = { kind: 'bf16' };

interface Folded {
  /** What the fold was made from: the backend and dtype, eps, and each input's storage and version (foldInputs order). */
  backend: unknown;
  dtype: unknown;
  eps: number;
  storages: unknown[];
  versions: number[];
  weight: Tensor;
  bias: Tensor;
}
const foldCache = new WeakMap<Conv2d, Folded>();

/** The tensors a fold reads: the conv's weight and bias, the batch norm's statistics, scale and shift. */
function foldInputs(conv: Conv2d, bn: BatchNorm2d): (Tensor | null)[] {
  return [conv.weight, conv.bias, bn.runningMean, bn.runningVar, bn.weight, bn.bias];
}

/** Whether `f` was folded from these inputs as they are now (checked on every call: no allocation but the list). */
function foldIsCurrent(f: Folded, like: Tensor, eps: number, inputs: (Tensor | null)[]): boolean {
  if (f.backend !== like.backend || f.dtype !== like.dtype || f.eps !== eps) return false;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    if ((t ? t.storage : null) !== f.storages[i] || (t ? t.version : 0) !== f.versions[i]) return false;
  }
  return true;
}

/** The conv's weight and bias with the batch norm folded in: w·γ/√(σ²+ε) and β + (b − μ)·γ/√(σ²+ε). Cached until a parameter or statistic changes. */
export function foldBatchNorm(conv: Conv2d, bn: BatchNorm2d, like: Tensor): Folded {
  const inputs = foldInputs(conv, bn);
  const hit = foldCache.get(conv);
  if (hit && foldIsCurrent(hit, like, bn.eps, inputs)) return hit;
  const [w, b, mean, variance, gamma, beta] = inputs as [
    Tensor,
    Tensor | null,
    Tensor,
    Tensor,
    Tensor | null,
    Tensor | null,
  ];
  const wv = w.toArray(),
    mv = mean.toArray(),
    vv = variance.toArray();
  const gv = gamma?.toArray(),
    bv = beta?.toArray(),
    cb = b?.toArray();
  const perOut = wv.length / conv.outChannels;
  const fw = new Float64Array(wv.length),
    fb = new Float64Array(conv.outChannels);
  for (let o = 0; o < conv.outChannels; o++) {
    const scale = (gv ? gv[o] : 1) / Math.sqrt(vv[o] + bn.eps);
    for (let i = 0; i < perOut; i++) fw[o * perOut + i] = wv[o * perOut + i] * scale;
    fb[o] = (bv ? bv[o] : 0) + ((cb ? cb[o] : 0) - mv[o]) * scale;
  }
  const weight = w.withStorage(like.backend.fromValues(like.dtype, fw));
  const bias = mean.withStorage(like.backend.fromValues(like.dtype, fb));
  // nothing writes to these storages: a new fold replaces them when a parameter or statistic changes
  like.backend.holdConstant?.(weight.storage);
  like.backend.holdConstant?.(bias.storage);
  const folded: Folded = {
    backend: like.backend,
    dtype: like.dtype,
    eps: bn.eps,
    storages: inputs.map((t) => (t ? t.storage : null)),
    versions: inputs.map((t) => (t ? t.version : 0)),
    weight,
    bias,
  };
  foldCache.set(conv, folded);
  return folded;
}

/** relu?(bn(conv(x)) + residual?) as one fused convolution (the modules in order without running statistics). */
function convBnAct(conv: Conv2d, bn: BatchNorm2d, x: Tensor, epilogue: Epilogue, ctx: FusionContext): Tensor {
  if (bn.runningMean && bn.runningVar) {
    const quantized = ctx.int8.get(conv);
    const { weight, bias } = quantized ?? foldBatchNorm(conv, bn, x);
    const precision: LowPrecision | undefined = quantized ? quantized.params : ctx.bf16 ? BF16 : undefined;
    const residual = epilogue.residual ? epilogue.residual() : null;
    const opts = { stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups };
    const y = conv2dFused(x, weight, bias, residual, !!epilogue.relu, opts, precision);
    ctx.observe?.(conv, x, residual, y);
    if (residual) epilogue.consumed?.(residual, y);
    return y;
  }
  let y = bn.call(conv.call(x));
  if (epilogue.residual) y = add(y, epilogue.residual());
  return epilogue.relu ? epilogue.relu.call(y) : y;
}

/**
 * Runs a list of layers with every Conv2d → BatchNorm2d (→ ReLU) fused. A `tail` (residual add,
 * then ReLU) joins the last conv/bn pair when the list ends with one.
 */
function runFused(layers: readonly Module[], x: Tensor, ctx: FusionContext, tail: Epilogue | null = null): Tensor {
  let out = x;
  for (let i = 0; i < layers.length; ) {
    const conv = layers[i],
      bn = layers[i + 1],
      relu = layers[i + 2];
    // the plan's own intermediates may go back to the pool after their reader: never its input
    const reader = layers[i];
    const ownsInput = out !== x && KEEPS_NO_INPUT.some((kind) => reader instanceof kind);
    let next: Tensor;
    let ending: Epilogue | null = null;
    if (conv instanceof Conv2d && bn instanceof BatchNorm2d) {
      const hasRelu = relu instanceof ReLU,
        end = i + (hasRelu ? 3 : 2);
      ending = !hasRelu && end === layers.length ? tail : null;
      next = convBnAct(conv, bn, out, ending ?? { relu: hasRelu ? relu : null }, ctx);
      i = end;
    } else {
      next = layers[i].call(out);
      i++;
    }
    if (ownsInput) recycle(out, ctx, next);
    out = next;
    if (ending) return out;
  }
  if (tail?.residual) out = add(out, tail.residual());
  return tail?.relu ? tail.relu.call(out) : out;
}

/** The fused forward of a module, for the kinds that have one. */
function planFor(m: Module, ctx: FusionContext): ((x: Tensor) => Tensor) | null {
  if (m instanceof Sequential) return (x) => runFused(m.layerList(), x, ctx);
  if (m instanceof ResidualBlock) {
    // a Sequential inside the path (the tutorial's `residual`) is opened so its last conv/bn takes the epilogue
    const layers = m.path().flatMap((l) => (l instanceof Sequential ? l.layerList() : [l]));
    return (x) =>
      runFused(layers, x, ctx, {
        residual: () => (m.shortcut ? m.shortcut.call(x) : x),
        relu: m.relu,
        // a projection's output is the plan's own once the last convolution has added it (an
        // identity shortcut's x is the caller's: it shares x's memory, so recycle leaves it)
        consumed: (residual, y) => recycle(residual, ctx, x, y),
      });
  }
  if (m instanceof ImageClassifier) return (x) => m.fc.call(flatten(runFused(m.featureLayers(), x, ctx), 1));
  return null;
}

/**
 * Plans fused inference for `model` and every submodule (predict, eval, forward --eval and bench
 * call this), in float32 or, with `options.precision`, bf16 or int8 (see InferenceOptions).
 * Training, autograd, traces and hooks still see the modules run one by one.
 */
export function prepareForInference<M extends Module>(model: M, options: InferenceOptions = {}): M {
  const int8 = new Map<Conv2d, QuantizedConv>();
  if (options.precision === 'int8') {
    if (!options.quantized?.size) {
      throw new Error(
        "prepareForInference: precision 'int8' needs the quantised convolutions: " +
          '{ quantized: quantizeModel(model, calibrate(model, batches)) } or an int8 model file',
      );
    }
    const byName = new Map(model.namedModules());
    for (const [name, q] of options.quantized) {
      const conv = byName.get(name);
      if (!(conv instanceof Conv2d))
        throw new Error(`prepareForInference: int8 weights name '${name}', which is not a Conv2d of this model`);
      int8.set(conv, q);
    }
  }
  const ctx: FusionContext = { bf16: options.precision === 'bf16', int8, observe: options.observe ?? null };
  for (const [, m] of model.namedModules()) {
    const run = planFor(m, ctx);
    if (run) setInferencePlan(m, { applies: (x) => fusionApplies(x, m), run: fused(run) });
  }
  return model;
}
