// Optimizers with PyTorch's semantics: SGD (momentum, dampening, Nesterov, weight decay) and AdamW,
// over named parameters (so their state saves and loads by parameter name), optionally without
// weight decay on BatchNorm and bias parameters.
import type { Parameter } from '../nn/parameter';
import type { Tensor } from '../tensor/tensor';

/** A group of parameters sharing a weight decay. */
interface ParamEntry {
  name: string;
  param: Parameter;
  weightDecay: number;
}

/** Common options. */
export interface OptimizerOptions {
  lr: number;
  weightDecay?: number;
  /** Skip weight decay on 1-D parameters (BatchNorm weights and biases, all biases). Default true. */
  noDecayOnNormAndBias?: boolean;
}

/** SGD options. */
export interface SgdOptions extends OptimizerOptions {
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
}
/** AdamW options (PyTorch's defaults: betas 0.9/0.999, eps 1e-8, weight decay 0.01). */
export interface AdamWOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** Base: the parameter list, the learning rate, state by name. */
export abstract class Optimizer {
  /** Current learning rate (a schedule sets it before each step). */
  lr: number;
  /** Completed steps. */
  stepCount = 0;
  protected readonly entries: ParamEntry[];

  constructor(named: readonly [string, Parameter][], opts: OptimizerOptions) {
    if (!(opts.lr > 0)) throw new Error(`optimizer: lr must be positive, got ${opts.lr}`);
    const wd = opts.weightDecay ?? 0;
    if (!(wd >= 0)) throw new Error(`optimizer: weight decay must be ≥ 0, got ${wd}`);
    const skip = opts.noDecayOnNormAndBias ?? true;
    this.lr = opts.lr;
    this.entries = named
      .filter(([, p]) => p.requiresGrad)
      .map(([name, param]) => ({ name, param, weightDecay: skip && param.ndim <= 1 ? 0 : wd }));
  }

  /** Updates every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    for (const e of this.entries) {
      if (!e.param.grad) continue;
      this.update(e, e.param.grad);
      e.param.version++;
    }
  }

  /** The entries whose parameters train (every one of them has optimizer state after a step). */
  protected trainable(): ParamEntry[] {
    return this.entries.filter((e) => e.param.requiresGrad);
  }

  /** Clears all gradients. */
  zeroGrad(): void {
    for (const e of this.entries) e.param.grad = null;
  }

  protected abstract update(e: ParamEntry, grad: Tensor): void;
  /** Optimizer state as named tensors (for checkpoints). */
  abstract stateTensors(): Map<string, Tensor>;
  /** Restores state from stateTensors() output. */
  abstract loadStateTensors(state: Map<string, Tensor>, stepCount: number): void;
  /** The kind and hyper-parameters (for checkpoint metadata). */
  abstract describe(): Record<string, unknown>;
}

/** Refuses an optimizer state whose tensor names are not exactly the expected ones (a damaged checkpoint). */
function checkStateKeys(state: Map<string, Tensor>, expected: string[]): void {
  const want = new Set(expected);
  const missing = expected.filter((k) => !state.has(k)),
    extra = [...state.keys()].filter((k) => !want.has(k));
  if (missing.length || extra.length) {
    const list = (ks: string[]) => `${ks.slice(0, 3).join(', ')}${ks.length > 3 ? ` and ${ks.length - 3} more` : ''}`;
    throw new Error(
      `optimizer state: ${missing.length ? `missing ${list(missing)}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `unexpected ${list(extra)}` : ''}`,
    );
  }
}

function takeState(state: Map<string, Tensor>, key: string, like: Tensor): unknown {
  const t = state.get(key);
  if (!t) throw new Error(`optimizer state: missing '${key}'`);
  if (t.numel !== like.numel)
    throw new Error(`optimizer state: '${key}' has ${t.numel} elements, parameter has ${like.numel}`);
  return like.backend.fromValues(like.dtype, t.toArray());
}

/** Stochastic gradient descent (torch.optim.SGD). */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  private readonly buffers = new Map<string, unknown>();

  constructor(named: readonly [string, Parameter][], opts: SgdOptions) {
    super(named, opts);
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0))
      throw new Error('SGD: Nesterov momentum requires a momentum > 0 and zero dampening');
  }

  protected update(e: ParamEntry, grad: Tensor): void {
    const k = e.param.backend.kernels;
    const r = k.sgdStep(e.param.storage, grad.storage, this.buffers.get(e.name) ?? null, {
      lr: this.lr,
      momentum: this.momentum,
      dampening: this.dampening,
      weightDecay: e.weightDecay,
      nesterov: this.nesterov,
    });
    e.param.storage = r.param;
    if (r.momentumBuffer) this.buffers.set(e.name, r.momentumBuffer);
  }

  stateTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const e of this.entries) {
      const b = this.buffers.get(e.name);
      if (b) out.set(`momentum_buffer.${e.name}`, e.param.withStorage(b));
    }
    return out;
  }

  loadStateTensors(state: Map<string, Tensor>, stepCount: number): void {
    // after the first step every parameter has a momentum buffer (when momentum is on)
    checkStateKeys(
      state,
      this.momentum && stepCount > 0 ? this.trainable().map((e) => `momentum_buffer.${e.name}`) : [],
    );
    this.buffers.clear();
    for (const e of this.entries) {
      if (state.has(`momentum_buffer.${e.name}`))
        this.buffers.set(e.name, takeState(state, `momentum_buffer.${e.name}`, e.param));
    }
    this.stepCount = stepCount;
  }

  describe(): Record<string, unknown> {
    return { kind: 'sgd', momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov };
  }
}

/** Adam with decoupled weight decay (torch.optim.AdamW). */
export class AdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly moments = new Map<string, { m: unknown; v: unknown }>();

  constructor(named: readonly [string, Parameter][], opts: AdamWOptions) {
    super(named, { ...opts, weightDecay: opts.weightDecay ?? 0.01 });
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  protected update(e: ParamEntry, grad: Tensor): void {
    const k = e.param.backend.kernels;
    const zero = () => e.param.backend.zeros(e.param.dtype, e.param.numel);
    const s = this.moments.get(e.name) ?? { m: zero(), v: zero() };
    const r = k.adamwStep(e.param.storage, grad.storage, s.m, s.v, {
      lr: this.lr,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: e.weightDecay,
      step: this.stepCount,
    });
    e.param.storage = r.param;
    this.moments.set(e.name, { m: r.expAvg, v: r.expAvgSq });
  }

  stateTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const e of this.entries) {
      const s = this.moments.get(e.name);
      if (!s) continue;
      out.set(`exp_avg.${e.name}`, e.param.withStorage(s.m));
      out.set(`exp_avg_sq.${e.name}`, e.param.withStorage(s.v));
    }
    return out;
  }

  loadStateTensors(state: Map<string, Tensor>, stepCount: number): void {
    checkStateKeys(
      state,
      stepCount > 0 ? this.trainable().flatMap((e) => [`exp_avg.${e.name}`, `exp_avg_sq.${e.name}`]) : [],
    );
    this.moments.clear();
    for (const e of this.entries) {
      if (state.has(`exp_avg.${e.name}`))
        this.moments.set(e.name, {
          m: takeState(state, `exp_avg.${e.name}`, e.param),
          v: takeState(state, `exp_avg_sq.${e.name}`, e.param),
        });
    }
    this.stepCount = stepCount;
  }

  describe(): Record<string, unknown> {
    return { kind: 'adamw', beta1: this.beta1, beta2: this.beta2, eps: this.eps };
  }
}
