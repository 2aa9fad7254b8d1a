// Parameter: a leaf tensor that a Module owns and an optimizer updates (requiresGrad by default).
import { Tensor } from '../tensor/tensor';

/** A trainable tensor registered on a Module. */
export class Parameter extends Tensor {
  /** Wraps a tensor's storage as a parameter. */
  constructor(data: Tensor, requiresGrad = true) {
    super(data.storage, data.shape, data.dtype, data.backend);
    this.requiresGrad = requiresGrad;
  }
}
