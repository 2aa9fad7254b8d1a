// The layers of the ResNet/ResNeXt family: Conv2d (groups), BatchNorm2d, ReLU, pools, Linear,
// Flatten, Identity — thin Modules over tensor/ops with PyTorch's defaults and initialisation.
import type { Backend } from '../backend/contract';
import { getDefaultBackend } from '../backend/slot';
import { zeros, ones } from '../tensor/create';
import * as F from '../tensor/ops';
import { defaultGenerator, type Generator } from '../tensor/random';
import { pair } from '../tensor/shape';
import type { Tensor } from '../tensor/tensor';
import { defaultWeightInit_, kaimingNormal_, uniform_ } from './init';
import { Module } from './module';
import { Parameter } from './parameter';

/** Where a layer's tensors live and which generator initialises them. */
export interface LayerOptions {
  backend?: Backend;
  generator?: Generator;
}

function paramOf(shape: number[], backend: Backend | undefined): Parameter {
  return new Parameter(zeros(shape, { backend: backend ?? getDefaultBackend() }));
}

/** Options of Conv2d (PyTorch's keyword arguments, camelCase). */
export interface Conv2dOptions extends LayerOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
  /** Weight initialisation: PyTorch's default (kaiming-uniform, a=√5) or torchvision's ResNet kaiming-normal fan_out. */
  weightInit?: 'default' | 'kaimingNormalFanOut';
}

/** 2-D convolution with groups: weight [out, in/groups, kh, kw] — the count falls by the number of groups. */
export class Conv2d extends Module {
  static readonly pytorchName = 'Conv2d';
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | [number, number],
    opts: Conv2dOptions = {},
  ) {
    super();
    this.kernelSize = pair('Conv2d', 'kernel_size', kernelSize);
    this.stride = pair('Conv2d', 'stride', opts.stride ?? 1);
    this.padding = pair('Conv2d', 'padding', opts.padding ?? 0);
    this.dilation = pair('Conv2d', 'dilation', opts.dilation ?? 1);
    this.groups = opts.groups ?? 1;
    for (const [name, v] of [
      ['in_channels', inChannels],
      ['out_channels', outChannels],
      ['groups', this.groups],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Conv2d: ${name} must be a positive integer, got ${v}`);
    }
    if (!this.kernelSize.every((k) => k >= 1))
      throw new Error(`Conv2d: kernel_size must be ≥ 1, got [${this.kernelSize}]`);
    if (inChannels % this.groups !== 0)
      throw new Error(`Conv2d: in_channels ${inChannels} is not divisible by groups ${this.groups}`);
    if (outChannels % this.groups !== 0)
      throw new Error(`Conv2d: out_channels ${outChannels} is not divisible by groups ${this.groups}`);
    const weight = this.registerParameter(
      'weight',
      paramOf([outChannels, inChannels / this.groups, ...this.kernelSize], opts.backend),
    );
    const bias = this.registerParameter('bias', opts.bias === false ? null : paramOf([outChannels], opts.backend));
    const gen = opts.generator ?? defaultGenerator;
    if (opts.weightInit === 'kaimingNormalFanOut') kaimingNormal_(weight, 'fan_out', gen);
    else defaultWeightInit_(weight, gen);
    if (bias) {
      const b = 1 / Math.sqrt((inChannels / this.groups) * this.kernelSize[0] * this.kernelSize[1]);
      uniform_(bias, -b, b, gen);
    }
  }

  /** [out, in/groups, kh, kw]. */
  get weight(): Parameter {
    return this.param('weight')!;
  }
  /** [out], or null when built with bias: false. */
  get bias(): Parameter | null {
    return this.param('bias');
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  override extraRepr(): string {
    const t = (p: [number, number]) => `(${p[0]}, ${p[1]})`;
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${t(this.kernelSize)}, stride=${t(this.stride)}`;
    if (this.padding.some((p) => p !== 0)) s += `, padding=${t(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${t(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}

/** Options of BatchNorm2d. */
export interface BatchNormOptions extends LayerOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/** Batch normalization over channels; weight 1, bias 0, running_mean 0, running_var 1. */
export class BatchNorm2d extends Module {
  static readonly pytorchName = 'BatchNorm2d';
  readonly eps: number;
  readonly momentum: number;

  constructor(
    readonly numFeatures: number,
    opts: BatchNormOptions = {},
  ) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1)
      throw new Error(`BatchNorm2d: num_features must be a positive integer, got ${numFeatures}`);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    const backend = opts.backend ?? getDefaultBackend();
    const affine = opts.affine ?? true;
    this.registerParameter('weight', affine ? new Parameter(ones([numFeatures], { backend })) : null);
    this.registerParameter('bias', affine ? new Parameter(zeros([numFeatures], { backend })) : null);
    if (opts.trackRunningStats ?? true) {
      this.registerBuffer('running_mean', zeros([numFeatures], { backend }));
      this.registerBuffer('running_var', ones([numFeatures], { backend }));
      this.registerBuffer('num_batches_tracked', zeros([], { backend, dtype: 'int64' }));
    }
  }

  get weight(): Parameter | null {
    return this.param('weight');
  }
  get bias(): Parameter | null {
    return this.param('bias');
  }
  get runningMean(): Tensor | null {
    return this.buffer('running_mean');
  }
  get runningVar(): Tensor | null {
    return this.buffer('running_var');
  }
  get numBatchesTracked(): Tensor | null {
    return this.buffer('num_batches_tracked');
  }

  protected override optionalStateKeys(): readonly string[] {
    return ['num_batches_tracked'];
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4)
      throw new Error(`BatchNorm2d: expected 4-D input [N, C, H, W], got shape [${x.shape.join(', ')}]`);
    if (x.shape[1] !== this.numFeatures)
      throw new Error(`BatchNorm2d: expected ${this.numFeatures} channels, got input of shape [${x.shape.join(', ')}]`);
    const tracked = this.numBatchesTracked;
    if (this.training && tracked?.backend.hasData && x.backend === tracked.backend) {
      tracked.storage = tracked.backend.fromValues('int64', [tracked.item() + 1]);
    }
    return F.batchNorm(x, {
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      weight: this.weight,
      bias: this.bias,
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.weight !== null}, track_running_stats=${this.runningMean !== null}`;
  }
}

/** max(x, 0); with `inplace`, written over its input (which nothing else may read), as PyTorch's. */
export class ReLU extends Module {
  static readonly pytorchName = 'ReLU';
  inplace: boolean;
  constructor(opts: { inplace?: boolean } = {}) {
    super();
    this.inplace = opts.inplace ?? false;
  }
  forward(x: Tensor): Tensor {
    return F.relu(x, { inPlace: this.inplace });
  }
  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}

/** Options of the pooling layers. */
export interface PoolOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  ceilMode?: boolean;
}

/** Max pooling (kernelSize kept as given, as torchinfo's Kernel Shape column shows it). */
export class MaxPool2d extends Module {
  static readonly pytorchName = 'MaxPool2d';
  constructor(
    readonly kernelSize: number | [number, number],
    readonly opts: PoolOptions = {},
  ) {
    super();
  }
  /** [sh, sw] (defaults to the kernel size). */
  get stride(): [number, number] {
    return pair('MaxPool2d', 'stride', this.opts.stride ?? this.kernelSize);
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, { kernelSize: this.kernelSize, ...this.opts });
  }
  override extraRepr(): string {
    return `kernel_size=${this.kernelSize}, stride=${this.opts.stride ?? this.kernelSize}, padding=${this.opts.padding ?? 0}, dilation=1, ceil_mode=${this.opts.ceilMode ? 'True' : 'False'}`;
  }
}

/** Average pooling. */
export class AvgPool2d extends Module {
  static readonly pytorchName = 'AvgPool2d';
  constructor(
    readonly kernelSize: number | [number, number],
    readonly opts: PoolOptions & { countIncludePad?: boolean } = {},
  ) {
    super();
  }
  /** [sh, sw] (defaults to the kernel size). */
  get stride(): [number, number] {
    return pair('AvgPool2d', 'stride', this.opts.stride ?? this.kernelSize);
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, { kernelSize: this.kernelSize, ...this.opts });
  }
  override extraRepr(): string {
    return `kernel_size=${this.kernelSize}, stride=${this.opts.stride ?? this.kernelSize}, padding=${this.opts.padding ?? 0}`;
  }
}

/** Adaptive average pooling to a fixed output size ((1, 1) = global average pooling). */
export class AdaptiveAvgPool2d extends Module {
  static readonly pytorchName = 'AdaptiveAvgPool2d';
  constructor(readonly outputSize: number | [number, number]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    const o = this.outputSize;
    return `output_size=${typeof o === 'number' ? o : `(${o[0]}, ${o[1]})`}`;
  }
}

/** Options of Linear. */
export interface LinearOptions extends LayerOptions {
  bias?: boolean;
}

/** y = x·Wᵀ + b with PyTorch's default U(±1/√in) initialisation. */
export class Linear extends Module {
  static readonly pytorchName = 'Linear';
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    for (const [name, v] of [
      ['in_features', inFeatures],
      ['out_features', outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Linear: ${name} must be a positive integer, got ${v}`);
    }
    const gen = opts.generator ?? defaultGenerator;
    defaultWeightInit_(this.registerParameter('weight', paramOf([outFeatures, inFeatures], opts.backend)), gen);
    const bias = this.registerParameter('bias', opts.bias === false ? null : paramOf([outFeatures], opts.backend));
    if (bias) uniform_(bias, -1 / Math.sqrt(inFeatures), 1 / Math.sqrt(inFeatures), gen);
  }
  get weight(): Parameter {
    return this.param('weight')!;
  }
  get bias(): Parameter | null {
    return this.param('bias');
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }
}

/** Flattens from startDim (default 1). */
export class Flatten extends Module {
  static readonly pytorchName = 'Flatten';
  constructor(readonly startDim = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.flatten(x, this.startDim);
  }
}

/** Returns its input. */
export class Identity extends Module {
  static readonly pytorchName = 'Identity';
  forward(x: Tensor): Tensor {
    return x;
  }
}
