// Storages the library promised never to change (Backend.holdConstant: inference's folded weights),
// kept resident in the wasm module's memory so kernels read them in place instead of copying them in
// at every call — at batch 1 those copies were ~19 ms of a ResNeXt-50 forward. They live below the
// arena (kernels.c's arena_set_base), first fit with coalescing; a copy is freed when its storage is
// garbage-collected, and the arena's start comes down when the top block goes.
import type { WasmExports } from './module';

interface Block {
  start: number;
  bytes: number;
}

const ALIGN = 64;

/** The resident copies and their region of the module's memory. */
export class ResidentConstants {
  private readonly where = new WeakMap<Float32Array, number>();
  private readonly free: Block[] = [];
  private readonly registry = new FinalizationRegistry<Block>((b) => this.release(b));
  private top: number;

  constructor(private readonly k: WasmExports) {
    this.top = Math.ceil(k.heap_start() / ALIGN) * ALIGN;
  }

  /** The address of `a`'s resident copy, or 0. */
  address(a: Float32Array): number {
    return this.where.get(a) ?? 0;
  }

  /** Copies `a` into the module's memory for good (until `a` is collected); false when it does not fit. */
  hold(a: Float32Array): boolean {
    if (this.where.has(a) || a.length === 0) return true;
    const bytes = Math.ceil((4 * a.length) / ALIGN) * ALIGN;
    const block = this.take(bytes);
    if (!block) return false;
    new Float32Array(this.k.memory.buffer, block.start, a.length).set(a);
    this.where.set(a, block.start);
    this.registry.register(a, block);
    return true;
  }

  private take(bytes: number): Block | null {
    const i = this.free.findIndex((b) => b.bytes >= bytes);
    if (i >= 0) {
      const b = this.free[i];
      if (b.bytes === bytes) this.free.splice(i, 1);
      else this.free[i] = { start: b.start + bytes, bytes: b.bytes - bytes };
      return { start: b.start, bytes };
    }
    const start = this.top,
      end = start + bytes;
    const have = this.k.memory.buffer.byteLength;
    if (end > 4294901760) return null;
    if (end > have) {
      try {
        (this.k.memory as unknown as { grow(pages: number): number }).grow(Math.ceil((end - have) / 65536));
      } catch {
        return null;
      }
    }
    this.top = end;
    this.k.arena_set_base(this.top);
    return { start, bytes };
  }

  private release(b: Block): void {
    this.free.push(b);
    this.free.sort((x, y) => x.start - y.start);
    // coalesce neighbours, then give the top block back to the arena
    for (let i = this.free.length - 1; i > 0; i--) {
      const prev = this.free[i - 1],
        cur = this.free[i];
      if (prev.start + prev.bytes === cur.start) {
        prev.bytes += cur.bytes;
        this.free.splice(i, 1);
      }
    }
    const last = this.free[this.free.length - 1];
    if (last && last.start + last.bytes === this.top) {
      this.top = last.start;
      this.free.pop();
      this.k.arena_set_base(this.top);
    }
  }
}
