// Inference activations in oneDNN's layouts: the fused convolution writes its output in the layout
// its kernel runs in (NHWC, or a blocked one such as nChw16c) and the next fused convolution (or
// max pooling) reads it as is.
// Which storages are blocked is recorded here; every other kernel, and reading values, sees
// plain NCHW (a reorder first), so the rest of the library never meets a blocked array.
import type { ConvGeometry, Kernels, LowPrecision, PoolGeometry } from '../contract';
import type { FArray } from '../reference';
import { readEnvironment } from '../../environment';
import type { NativeAddon } from './addon';

/** Layout 0 is plain NCHW; n > 0 is a layout the addon numbered. */
export class BlockedLayouts {
  /** Off with RESNEXT_BLOCKED_LAYOUTS=0 (plain NCHW everywhere, for comparisons). */
  enabled = readEnvironment().blockedLayouts;
  private readonly tags = new WeakMap<Float32Array, number>();
  private readonly plans = new Map<string, ConvPlan>();
  private readonly prepared = new WeakMap<Float32Array, Map<string, Float32Array>>();
  /** Per weight array, its last call's plan and prepared weights (a layer meets the same input shape every step). */
  private readonly lastCall = new WeakMap<Float32Array, LastCall>();

  constructor(
    private readonly addon: NativeAddon,
    private readonly take: (size: number) => Float32Array,
  ) {}

  /** A fresh output array with no layout recorded (pooled arrays may carry an old one). */
  output(size: number): Float32Array {
    const a = this.take(size);
    this.tags.delete(a);
    return a;
  }

  /** The layout a storage holds (0: plain NCHW). */
  layoutOf(s: unknown): number {
    return s instanceof Float32Array ? (this.tags.get(s) ?? 0) : 0;
  }

  /** The plain NCHW values of a storage (itself when it is not blocked). */
  plain<S>(s: S): S {
    if (!(s instanceof Float32Array)) return s;
    const layout = this.tags.get(s);
    if (!layout) return s;
    const dims = this.addon.layoutDims(layout);
    const out = this.output(dims[0] * dims[1] * dims[2] * dims[3]);
    this.addon.layoutToPlain(s, layout, out);
    return out as S;
  }

  /** The kernel table with every Float32Array argument made plain first, except in `aware` kernels. */
  plainInputs(kernels: Kernels<FArray>, aware: ReadonlySet<string>): Kernels<FArray> {
    const wrapped: Record<string, unknown> = {};
    for (const [name, fn] of Object.entries(kernels) as [string, (...a: unknown[]) => unknown][]) {
      wrapped[name] = aware.has(name) ? fn : (...args: unknown[]) => fn(...args.map((a) => this.plain(a)));
    }
    return wrapped as unknown as Kernels<FArray>;
  }

  /**
   * relu?(conv(x, w) + b + residual?) with a blocked output (float32, or bf16/int8 values packed
   * at the front of the float32 array), or null when the plan's output does not fit in a plain
   * one's array (then the caller runs the plain kernel).
   */
  conv2dFused(
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    r: Float32Array | null,
    relu: boolean,
    g: ConvGeometry,
    packed: Int32Array,
    precision?: LowPrecision,
  ): Float32Array | null {
    if (!this.enabled && !precision) return null;
    const hasResidual = r !== null;
    let last = this.lastCall.get(w);
    if (!last?.matches(packed, hasResidual, relu, precision)) {
      const prepared = this.plannedConv(w, g, packed, hasResidual, relu, precision);
      if (!prepared) return null;
      last = new LastCall(packed, hasResidual, relu, precision, prepared.plan, prepared.weights);
      this.lastCall.set(w, last);
    }
    const y = this.output(g.n * g.o * g.oh * g.ow);
    this.addon.conv2dFusedBlocked(last.plan.plan, x, this.layoutOf(x), last.weights, b, r, this.layoutOf(r), y);
    if (last.plan.dstLayout !== 0) this.tags.set(y, last.plan.dstLayout);
    return y;
  }

  /**
   * The plan for this call and w reordered for it (once per weight array and plan), or null when
   * its output does not fit.
   */
  private plannedConv(
    w: Float32Array,
    g: ConvGeometry,
    packed: Int32Array,
    hasResidual: boolean,
    relu: boolean,
    precision: LowPrecision | undefined,
  ): { plan: ConvPlan; weights: Float32Array } | null {
    const key = `${packed.join(',')}|${hasResidual ? 1 : 0}${relu ? 1 : 0}|${precisionKey(precision)}`;
    let plan = this.plans.get(key);
    if (!plan) {
      const [dstLayout, dstElements, weightElements, number] = this.addon.blockedPlan(
        packed,
        hasResidual,
        relu,
        precision,
      );
      plan = { dstLayout, dstElements, weightElements, plan: number };
      this.plans.set(key, plan);
    }
    const plainElements = g.n * g.o * g.oh * g.ow;
    if (precision ? plan.dstElements > plainElements : plan.dstElements !== plainElements) return null;
    let byPlan = this.prepared.get(w);
    if (!byPlan) {
      byPlan = new Map();
      this.prepared.set(w, byPlan);
    }
    let weights = byPlan.get(key);
    if (!weights) {
      weights = new Float32Array(plan.weightElements);
      this.addon.blockedPrepareWeights(plan.plan, w, weights);
      byPlan.set(key, weights);
    }
    return { plan, weights };
  }

  /** Max pooling of a blocked input in its own layout, or null when x is plain (or the plan's output is padded). */
  maxPool2d(x: Float32Array, g: PoolGeometry, packed: Int32Array): Float32Array | null {
    const layout = this.layoutOf(x);
    if (!layout) return null;
    const [dstLayout, dstElements] = this.addon.maxPoolBlockedPlan(packed, layout);
    const plainElements = g.n * g.c * g.oh * g.ow;
    if (dstElements > plainElements) return null;
    const y = this.output(plainElements);
    this.addon.maxPoolBlocked(x, layout, y, packed);
    if (dstLayout !== 0) this.tags.set(y, dstLayout);
    return y;
  }
}

/** A fused convolution's plan as the addon numbered it. */
interface ConvPlan {
  dstLayout: number;
  dstElements: number;
  weightElements: number;
  plan: number;
}

/** A weight array's last fused call: its geometry, epilogue and precision, with the plan they chose. */
class LastCall {
  constructor(
    private readonly packed: Int32Array,
    private readonly residual: boolean,
    private readonly relu: boolean,
    private readonly precision: LowPrecision | undefined,
    readonly plan: ConvPlan,
    readonly weights: Float32Array,
  ) {}

  /** Whether a call with these arguments takes the same plan (the same precision object, not an equal one). */
  matches(packed: Int32Array, residual: boolean, relu: boolean, precision: LowPrecision | undefined): boolean {
    if (residual !== this.residual || relu !== this.relu || precision !== this.precision) return false;
    for (let i = 0; i < packed.length; i++) if (packed[i] !== this.packed[i]) return false;
    return true;
  }
}

/** A plan-cache key part for a precision: '' (float32), 'h' (bf16) or 'q<id>' (int8). */
function precisionKey(p: LowPrecision | undefined): string {
  return !p ? '' : p.kind === 'bf16' ? 'h' : `q${p.id}`;
}
