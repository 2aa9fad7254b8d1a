// Module: the base of every layer and model — named parameters, buffers and children by
// attribute path (which are the checkpoint keys), train/eval, state dicts, forward hooks.
import type { Backend } from '../backend/contract';
import { formatShape, sameDims } from '../tensor/shape';
import type { Tensor } from '../tensor/tensor';
import { Parameter } from './parameter';

/** Called before forward with the module and its inputs. */
export type ForwardPreHook = (module: Module, inputs: readonly Tensor[]) => void;
/** Called after forward with the module, its inputs and its output. */
export type ForwardHook = (module: Module, inputs: readonly Tensor[], output: Tensor) => void;
/** Removes a registered hook. */
export interface HookHandle {
  remove(): void;
}

/** What loadStateDict found. */
export interface LoadReport {
  missingKeys: string[];
  unexpectedKeys: string[];
  shapeMismatches: { key: string; expected: number[]; got: number[] }[];
}

/** A state dict: ordered key → tensor (a Map, or a plain object). */
export type StateDict = Map<string, Tensor> | Record<string, Tensor>;

/** A faster forward for inference that a module runs when `applies` (see nn/inference.ts). */
export interface InferencePlan {
  applies(x: Tensor): boolean;
  run(x: Tensor): Tensor;
}

const inferencePlans = new WeakMap<Module, InferencePlan>();

/** Installs (or with null removes) the inference plan of a module. */
export function setInferencePlan(m: Module, plan: InferencePlan | null): void {
  if (plan) inferencePlans.set(m, plan);
  else inferencePlans.delete(m);
}

/** Base class of all layers and models. */
export abstract class Module {
  /** Training mode (batch statistics in BatchNorm) vs evaluation mode. */
  training = true;
  private readonly _parameters = new Map<string, Parameter | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _modules = new Map<string, Module>();
  private readonly _preHooks = new Set<ForwardPreHook>();
  private readonly _hooks = new Set<ForwardHook>();

  /**
   * The class name shown in summaries and repr (PyTorch's class names): a class's own static
   * `pytorchName` (set by the built-in layers and models, so minified bundles still print them),
   * else the constructor's name.
   */
  get typeName(): string {
    const c = this.constructor as { name: string; pytorchName?: string };
    return Object.hasOwn(c, 'pytorchName') && c.pytorchName ? c.pytorchName : c.name;
  }

  /** The computation; call modules through call() so hooks run. */
  abstract forward(x: Tensor): Tensor;

  /** Whether any forward (pre-)hook is registered on this module. */
  hasHooks(): boolean {
    return this._preHooks.size + this._hooks.size > 0;
  }

  /** Runs forward with pre-hooks and hooks (PyTorch's module(x)); a prepared inference plan instead where it applies. */
  call(x: Tensor): Tensor {
    const inputs = [x];
    for (const h of this._preHooks) h(this, inputs);
    const plan = inferencePlans.get(this);
    const out = plan?.applies(x) ? plan.run(x) : this.forward(x);
    for (const h of this._hooks) h(this, inputs, out);
    return out;
  }

  /** Registers (or replaces) a parameter under `name`. */
  protected registerParameter<P extends Parameter | null>(name: string, p: P): P {
    this._parameters.set(name, p);
    return p;
  }

  /**
   * State-dict entries (own names) that a checkpoint may omit; loading leaves them at their
   * current value (BatchNorm's num_batches_tracked, as PyTorch's BatchNorm tolerates).
   */
  protected optionalStateKeys(): readonly string[] {
    return [];
  }

  /** Registers a persistent buffer (saved in the state dict, not trained). */
  protected registerBuffer(name: string, t: Tensor | null): Tensor | null {
    this._buffers.set(name, t);
    return t;
  }

  /** Registers a child module under `name`. */
  registerModule<M extends Module>(name: string, m: M): M {
    if (name.includes('.') || name === '') throw new Error(`registerModule: invalid module name '${name}'`);
    this._modules.set(name, m);
    return m;
  }

  /** The parameter registered as `name` (null if registered as absent). */
  protected param(name: string): Parameter | null {
    return this._parameters.get(name) ?? null;
  }

  /** The buffer registered as `name`. */
  protected buffer(name: string): Tensor | null {
    return this._buffers.get(name) ?? null;
  }

  /** Direct children in registration order. */
  namedChildren(): [string, Module][] {
    return [...this._modules];
  }

  /** Whether `test` holds for some descendant (not this module), depth-first, without building paths. */
  someDescendant(test: (m: Module) => boolean): boolean {
    for (const m of this._modules.values()) if (test(m) || m.someDescendant(test)) return true;
    return false;
  }

  /** This module and all descendants, depth-first, with their dotted paths ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this._modules) out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** All parameters with dotted paths, in PyTorch's order. */
  namedParameters(): [string, Parameter][] {
    return this.collect((m) => m._parameters) as [string, Parameter][];
  }

  /** All parameters, in namedParameters()' order (without building their paths). */
  parameters(): Parameter[] {
    return this.tensors((m) => m._parameters) as Parameter[];
  }

  /** All buffers, in namedBuffers()' order (without building their paths). */
  buffers(): Tensor[] {
    return this.tensors((m) => m._buffers);
  }

  /** This module and all descendants depth-first, as namedModules() orders them. */
  private forEachModule(visit: (m: Module) => void): void {
    visit(this);
    for (const m of this._modules.values()) m.forEachModule(visit);
  }

  private tensors(pick: (m: Module) => Map<string, Tensor | null>): Tensor[] {
    const out: Tensor[] = [];
    this.forEachModule((m) => {
      for (const t of pick(m).values()) if (t) out.push(t);
    });
    return out;
  }

  /** All buffers with dotted paths. */
  namedBuffers(): [string, Tensor][] {
    return this.collect((m) => m._buffers);
  }

  private collect(pick: (m: Module) => Map<string, Tensor | null>): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules()) {
      for (const [name, t] of pick(m)) if (t) out.push([path ? `${path}.${name}` : name, t]);
    }
    return out;
  }

  /** Total number of parameter elements (optionally only trainable ones). */
  numParameters(trainableOnly = false): number {
    return this.parameters()
      .filter((p) => !trainableOnly || p.requiresGrad)
      .reduce((s, p) => s + p.numel, 0);
  }

  /** Sets training mode on this module and all descendants. */
  train(mode = true): this {
    this.forEachModule((m) => {
      m.training = mode;
    });
    return this;
  }

  /** Sets evaluation mode. */
  eval(): this {
    return this.train(false);
  }

  /** Clears .grad of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Parameters and buffers by key, in PyTorch's state_dict order (each module's own params, own buffers, then children). */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [path, m] of this.namedModules()) {
      const key = (name: string) => (path ? `${path}.${name}` : name);
      for (const [name, p] of m._parameters) if (p) out.set(key(name), p);
      for (const [name, b] of m._buffers) if (b) out.set(key(name), b);
    }
    return out;
  }

  /**
   * Copies values from a state dict into this module's parameters and buffers. Reports missing,
   * unexpected and mis-shaped keys; with strict (the default) any of them is an error and nothing is copied.
   */
  loadStateDict(stateDict: StateDict, opts: { strict?: boolean } = {}): LoadReport {
    const strict = opts.strict ?? true;
    const incoming = stateDict instanceof Map ? stateDict : new Map(Object.entries(stateDict));
    const own = this.stateDict();
    const optional = new Set(
      this.namedModules().flatMap(([path, m]) => m.optionalStateKeys().map((k) => (path ? `${path}.${k}` : k))),
    );
    const report: LoadReport = {
      missingKeys: [...own.keys()].filter((k) => !incoming.has(k) && !optional.has(k)),
      unexpectedKeys: [...incoming.keys()].filter((k) => !own.has(k)),
      shapeMismatches: [],
    };
    for (const [key, t] of own) {
      const src = incoming.get(key);
      if (src && !sameDims(src.shape, t.shape))
        report.shapeMismatches.push({ key, expected: [...t.shape], got: [...src.shape] });
    }
    const problems = report.missingKeys.length + report.unexpectedKeys.length + report.shapeMismatches.length;
    if (strict && problems > 0) throw new Error(`loadStateDict: ${describeReport(report)}`);
    const mismatched = new Set(report.shapeMismatches.map((m) => m.key));
    for (const [key, t] of own) {
      const src = incoming.get(key);
      if (src && !mismatched.has(key)) t.copyFrom(src);
    }
    return report;
  }

  /** Moves every parameter and buffer to another backend (values copied). */
  to(backend: Backend): this {
    for (const [, m] of this.namedModules()) {
      for (const [name, p] of m._parameters)
        if (p) m._parameters.set(name, new Parameter(p.to(backend), p.requiresGrad));
      for (const [name, b] of m._buffers) if (b) m._buffers.set(name, b.to(backend));
    }
    return this;
  }

  /** Adds a hook run before forward. */
  registerForwardPreHook(hook: ForwardPreHook): HookHandle {
    this._preHooks.add(hook);
    return { remove: () => this._preHooks.delete(hook) };
  }

  /** Adds a hook run after forward. */
  registerForwardHook(hook: ForwardHook): HookHandle {
    this._hooks.add(hook);
    return { remove: () => this._hooks.delete(hook) };
  }

  /** Extra text inside this module's repr, e.g. "64, 128, kernel_size=(3, 3)". */
  extraRepr(): string {
    return '';
  }

  /** PyTorch-style nested description of the module tree. */
  toString(): string {
    const children = this.namedChildren();
    if (children.length === 0) return `${this.typeName}(${this.extraRepr()})`;
    const lines = children.map(([name, m]) => `  (${name}): ${m.toString().split('\n').join('\n  ')}`);
    const extra = this.extraRepr();
    return `${this.typeName}(${extra ? `\n  ${extra}` : ''}\n${lines.join('\n')}\n)`;
  }
}

/** One line per kind of problem in a load report. */
export function describeReport(r: LoadReport): string {
  const parts: string[] = [];
  // a few of each, so the message stays one readable line
  const few = (keys: string[]) => `${keys.slice(0, 3).join(', ')}${keys.length > 3 ? ', …' : ''}`;
  if (r.missingKeys.length) parts.push(`missing keys (${r.missingKeys.length}): ${few(r.missingKeys)}`);
  if (r.unexpectedKeys.length) parts.push(`unexpected keys (${r.unexpectedKeys.length}): ${few(r.unexpectedKeys)}`);
  for (const m of r.shapeMismatches.slice(0, 3))
    parts.push(
      `shape mismatch for ${m.key}: checkpoint has ${formatShape(m.got)}, model expects ${formatShape(m.expected)}`,
    );
  if (r.shapeMismatches.length > 3) parts.push(`${r.shapeMismatches.length - 3} more shape mismatches`);
  return parts.join('; ') || 'no problems';
}
