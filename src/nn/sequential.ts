// Sequential: children named '0', '1', … called in order (PyTorch's nn.Sequential).
import type { Tensor } from '../tensor/tensor';
import { Module } from './module';

/** A chain of modules. */
export class Sequential extends Module {
  static readonly pytorchName = 'Sequential';
  private readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    for (const [i, m] of layers.entries()) this.registerModule(String(i), m);
  }

  /** Number of children. */
  get length(): number {
    return this.layers.length;
  }

  /** The children, in order. */
  layerList(): readonly Module[] {
    return this.layers;
  }

  /** The i-th child. */
  at(i: number): Module {
    const m = this.layers[i];
    if (!m) throw new Error(`Sequential: index ${i} is out of range for ${this.layers.length} layers`);
    return m;
  }

  forward(x: Tensor): Tensor {
    let out = x;
    for (const m of this.layers) out = m.call(out);
    return out;
  }
}
