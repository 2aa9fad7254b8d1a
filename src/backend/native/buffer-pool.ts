// Reuse of large kernel outputs inside a step scope. A fresh multi-megabyte Float32Array costs
// page faults and zeroing on every op (~2 µs per 4 KiB page here); inside open()…close(keep) the
// native kernels take their outputs from a pool instead, and close() returns every output of the
// scope to the pool except those still in use (`keep`: parameters, gradients, buffers, optimizer
// state). Outside a scope every output is a plain GC-owned array, as before.

/** Outputs smaller than this many elements (256 KiB) are always fresh: reuse would not pay. */
const MIN_POOLED_ELEMENTS = 65536;

/** A pool of Float32Arrays by length, and the stack of open scopes recording what they handed out. */
export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly scopes: Set<Float32Array>[] = [];
  /** Elements handed out by the open scopes and not yet returned, and the most there have been. */
  private live = 0;
  private peak = 0;
  enabled = true;

  /** An output array of `size` elements; its contents are arbitrary inside a scope (kernels overwrite all of it). */
  take(size: number): Float32Array {
    const scope = this.scopes[this.scopes.length - 1];
    if (!scope || !this.enabled || size < MIN_POOLED_ELEMENTS) return new Float32Array(size);
    const a = this.free.get(size)?.pop() ?? new Float32Array(size);
    scope.add(a);
    this.live += size;
    this.peak = Math.max(this.peak, this.live);
    return a;
  }

  /** Starts recording the outputs handed out. */
  open(): void {
    this.scopes.push(new Set());
  }

  /**
   * Gives one output back before its scope ends (autograd does, for a gradient it has consumed);
   * the caller guarantees nothing reads it again. Arrays the scopes did not hand out are ignored.
   */
  release(a: unknown): void {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      if (!this.scopes[i].delete(a as Float32Array)) continue;
      this.recycle(a as Float32Array);
      return;
    }
  }

  private recycle(a: Float32Array): void {
    this.live -= a.length;
    const list = this.free.get(a.length);
    if (list) list.push(a);
    else this.free.set(a.length, [a]);
  }

  /** Ends the innermost scope: its outputs go back to the pool unless `keep` holds them. */
  close(keep: ReadonlySet<unknown>): void {
    const scope = this.scopes.pop();
    if (!scope) throw new Error('buffer pool: close() without open()');
    for (const a of scope) {
      if (keep.has(a))
        this.live -= a.length; // kept: no longer the scope's to return
      else this.recycle(a);
    }
  }

  /** Drops every pooled array (the garbage collector frees them). */
  clear(): void {
    this.free.clear();
  }

  /** Bytes in use by open scopes, their peak since the last reset, and bytes idle in the pool. */
  stats(): { liveBytes: number; peakLiveBytes: number; idleBytes: number } {
    return { liveBytes: 4 * this.live, peakLiveBytes: 4 * this.peak, idleBytes: 4 * this.idleElements() };
  }

  /** Starts a new peak (e.g. per training step). */
  resetPeak(): void {
    this.peak = this.live;
  }

  /** Pooled elements currently idle, for tests and memory reports. */
  idleElements(): number {
    let n = 0;
    for (const list of this.free.values()) for (const a of list) n += a.length;
    return n;
  }
}
