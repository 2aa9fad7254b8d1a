// A residual block: out = path(x); relu(out + identity), identity = shortcut(x) or x itself —
// torchvision's Bottleneck/BasicBlock forward, written once for every block that declares its parts.
import { add } from '../tensor/ops/elementwise';
import type { Tensor } from '../tensor/tensor';
import type { ReLU } from './layers';
import { Module } from './module';

/** A block that declares its main path, shortcut and final ReLU; forward is derived from them. */
export abstract class ResidualBlock extends Module {
  /** The projection of the input when shapes change (torchvision's `downsample`), else null. */
  abstract readonly shortcut: Module | null;
  /** The ReLU after the addition. */
  abstract readonly relu: ReLU;
  /** The main path's modules in order: conv → bn → relu … conv → bn. */
  abstract path(): readonly Module[];

  forward(x: Tensor): Tensor {
    let out = x;
    for (const m of this.path()) out = m.call(out);
    const identity = this.shortcut ? this.shortcut.call(x) : x;
    // out is the path's own last output: the sum overwrites it, as torchvision's `out += identity`
    return this.relu.call(add(out, identity, { inPlace: out !== x }));
  }
}
