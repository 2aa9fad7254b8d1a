// Tensor: a shape, a dtype, a backend storage and (for autograd) a grad function and .grad.
// All tensors are contiguous row-major; reshape shares storage.
import { isGradEnabled, runBackward, type Differentiable, type GradFn } from '../autograd/engine';
import type { Backend, DType } from '../backend/contract';
import { assertValidShape, formatShape, numel, sameDims } from './shape';
import { emitOp } from './trace';

/** The memory a tensor's values live in: a typed-array view shares its buffer with the array it views. */
export function memoryOf(t: Tensor): unknown {
  return ArrayBuffer.isView(t.storage) ? t.storage.buffer : t.storage;
}

/** An n-dimensional array on a backend, optionally tracked by autograd. */
export class Tensor implements Differentiable<Tensor> {
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** Gradient accumulated by backward() (leaves only). */
  grad: Tensor | null = null;
  /** Bumped by in-place updates of the storage (optimizer steps), like PyTorch's _version; caches compare it. */
  version = 0;
  /** The op that produced this tensor, when recorded by autograd. */
  gradFn: GradFn<Tensor> | null;
  private _requiresGrad: boolean;

  /** Wraps a backend storage; most code uses the creation functions instead. */
  constructor(
    /** Backend-owned storage (a typed array on the reference backend). */
    public storage: unknown,
    shape: readonly number[],
    readonly dtype: DType,
    readonly backend: Backend,
    gradFn: GradFn<Tensor> | null = null,
  ) {
    assertValidShape('Tensor', shape);
    this.shape = Object.freeze([...shape]);
    const size = backend.size(storage);
    if (size !== numel(shape))
      throw new Error(`Tensor: storage holds ${size} elements but shape ${formatShape(shape)} needs ${numel(shape)}`);
    this.gradFn = gradFn;
    this._requiresGrad = gradFn !== null;
  }

  /** Whether autograd tracks this tensor. */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(v: boolean) {
    if (this.gradFn && !v) throw new Error('requiresGrad: cannot turn off on a non-leaf tensor; use detach()');
    if (v && this.dtype === 'int64') throw new Error('requiresGrad: only floating-point tensors can require gradients');
    this._requiresGrad = v;
  }

  /** Sets requiresGrad and returns this (chainable). */
  requiresGrad_(v = true): this {
    this.requiresGrad = v;
    return this;
  }

  /** Number of elements. */
  get numel(): number {
    return numel(this.shape);
  }
  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** The values as a fresh typed array, synchronously (CPU backends; an error on the meta backend). */
  toArray(): Float32Array | Float64Array {
    return this.backend.read(this.storage);
  }

  /** The values as a fresh typed array once the backend has them: the read every backend offers. */
  async data(): Promise<Float32Array | Float64Array> {
    return this.backend.readAsync ? this.backend.readAsync(this.storage) : this.backend.read(this.storage);
  }

  /**
   * A short description, like PyTorch's repr: shape, dtype, backend, and the first few values
   * (`console.log(t)` and `util.inspect` show this, not the storage and the backend's kernel table).
   */
  toString(): string {
    const head = `Tensor(shape=${formatShape(this.shape)}, dtype=${this.dtype}, backend=${this.backend.name}${this.requiresGrad ? ', requiresGrad' : ''})`;
    if (!this.backend.hasData) return `${head} (shapes only)`;
    const values = this.toArray(),
      shown = Array.from(values.subarray(0, 6), (v) =>
        this.dtype === 'int64' ? String(v) : String(Number(v.toPrecision(4))),
      );
    return `${head} [${shown.join(', ')}${values.length > 6 ? `, … ${values.length - 6} more` : ''}]`;
  }

  /** Node's console.log / util.inspect hook (a registered symbol, so the core imports nothing from Node). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.numel !== 1)
      throw new Error(`item: tensor of shape ${formatShape(this.shape)} has ${this.numel} elements, expected 1`);
    return this.toArray()[0];
  }

  /** Values as nested JS arrays (for printing and tests). */
  toNested(): unknown {
    const flat = Array.from(this.toArray());
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return flat[offset];
      const stride = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** Back-propagates from this tensor (a scalar unless `grad` is given). */
  backward(grad?: Tensor): void {
    if (!grad && this.numel !== 1)
      throw new Error(
        `backward: grad can be implicitly created only for a scalar output, got shape ${formatShape(this.shape)}`,
      );
    const seed = grad ?? new Tensor(this.backend.fromValues(this.dtype, [1]), this.shape, this.dtype, this.backend);
    const release = this.backend.bufferScope?.release;
    runBackward<Tensor>(this, seed, {
      add: (a, b) => a.withStorage(a.backend.kernels.addScaled(a.storage, b.storage, 1, 1)),
      memoryOf,
      release: release && ((g) => release(g.storage)),
    });
  }

  /** @internal Adds a gradient into .grad (autograd calls this on leaves). */
  accumulateGrad(g: Tensor): void {
    this.grad =
      this.grad === null
        ? g
        : this.grad.withStorage(this.backend.kernels.addScaled(this.grad.storage, g.storage, 1, 1));
  }

  /** A tensor sharing this storage, cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.dtype, this.backend);
  }

  /** @internal A new untracked tensor of the same shape/dtype/backend over another storage. */
  withStorage(storage: unknown, shape: readonly number[] = this.shape): Tensor {
    return new Tensor(storage, shape, this.dtype, this.backend);
  }

  /** Replaces this tensor's values with src's (same shape), like torch's copy_ under no_grad. */
  copyFrom(src: Tensor): void {
    if (!sameDims(src.shape, this.shape))
      throw new Error(`copyFrom: shape ${formatShape(src.shape)} does not match ${formatShape(this.shape)}`);
    // a copy, never shared storage: optimizers update parameters in place
    this.storage =
      this.backend.hasData && src.backend.hasData
        ? this.backend.fromValues(this.dtype, src.toArray())
        : this.backend.zeros(this.dtype, this.numel);
  }

  /** Same values with another shape (one dimension may be -1); shares storage; differentiable. */
  reshape(shape: readonly number[]): Tensor {
    const resolved = resolveReshape(this.shape, shape);
    const fn: GradFn<Tensor> | null =
      this.requiresGrad && isGradEnabled()
        ? { op: 'reshape', inputs: [this], backward: (g) => [g.withStorage(g.storage, this.shape)] }
        : null;
    const out = new Tensor(this.storage, resolved, this.dtype, this.backend, fn);
    emitOp('reshape', [this], out, { shape: resolved });
    return out;
  }

  /** A copy of this tensor on another backend (values copied; meta keeps shapes only). */
  to(backend: Backend): Tensor {
    if (backend === this.backend) return this;
    const storage =
      backend.hasData && this.backend.hasData
        ? backend.fromValues(this.dtype, this.toArray())
        : backend.zeros(this.dtype, this.numel);
    return new Tensor(storage, this.shape, this.dtype, backend);
  }
}

/** Resolves a target shape (with at most one -1) against a source shape. */
function resolveReshape(from: readonly number[], to: readonly number[]): number[] {
  const total = numel(from);
  const unknown = to.filter((d) => d === -1).length;
  if (unknown > 1) throw new Error(`reshape: only one dimension can be -1, got ${formatShape(to)}`);
  const known = numel(to.filter((d) => d !== -1));
  const resolved = to.map((d) => (d === -1 ? (known === 0 ? 0 : total / known) : d));
  if (!resolved.every((d) => Number.isInteger(d) && d >= 0) || numel(resolved) !== total) {
    throw new Error(
      `reshape: shape ${formatShape(to)} is invalid for a tensor of shape ${formatShape(from)} (${total} elements)`,
    );
  }
  return resolved;
}
