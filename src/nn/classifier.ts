// An image classifier: feature layers, global pooling to [N, C], then a linear head `fc` — the
// interface every model family in the registry implements (ResNet, ResNeXt, the tutorial's ResNeXt).
import { flatten } from '../tensor/ops/shape';
import type { Tensor } from '../tensor/tensor';
import type { Linear } from './layers';
import { Module } from './module';

/** A backbone whose last layer pools to [N, C, 1, 1], and a linear classifier. */
export abstract class ImageClassifier extends Module {
  /** The linear classifier (its outFeatures is the class count). */
  abstract readonly fc: Linear;
  /** The backbone's modules in order, ending with the global average pool. */
  abstract featureLayers(): readonly Module[];

  /** The pooled features before the classifier: [N, C] (2048 for ResNet-50 and up). */
  forwardFeatures(x: Tensor): Tensor {
    let h = x;
    for (const m of this.featureLayers()) h = m.call(h);
    return flatten(h, 1);
  }

  forward(x: Tensor): Tensor {
    return this.fc.call(this.forwardFeatures(x));
  }
}
