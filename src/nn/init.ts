// PyTorch's weight initialisations (seeded): kaiming normal/uniform, uniform, constants.
// They overwrite a tensor's values in place and do nothing on a data-less (meta) backend.
import { full, randn, uniform } from '../tensor/create';
import { defaultGenerator, type Generator } from '../tensor/random';
import type { Tensor } from '../tensor/tensor';

/** fan_in = size(1)·receptive field, fan_out = size(0)·receptive field (torch.nn.init's rule). */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) throw new Error(`init: fan in/out need a tensor with at least 2 dimensions, got ${t.ndim}`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

function overwrite(t: Tensor, make: () => Tensor): void {
  if (t.backend.hasData) t.storage = make().storage;
}

/** U(low, high). */
export function uniform_(t: Tensor, low: number, high: number, generator: Generator = defaultGenerator): void {
  overwrite(t, () => uniform(t.shape, low, high, { dtype: t.dtype, backend: t.backend, generator }));
}

/** N(0, std²). */
export function normal_(t: Tensor, std: number, generator: Generator = defaultGenerator): void {
  overwrite(t, () => {
    const z = randn(t.shape, { dtype: 'float64', backend: t.backend, generator }).toArray();
    for (let i = 0; i < z.length; i++) z[i] *= std;
    return fromValues(t, z);
  });
}

function fromValues(like: Tensor, values: Float32Array | Float64Array): Tensor {
  return like.withStorage(like.backend.fromValues(like.dtype, values));
}

/** Every element = value. */
export function constant_(t: Tensor, value: number): void {
  overwrite(t, () => full(t.shape, value, { dtype: t.dtype, backend: t.backend }));
}

/** Kaiming (He) normal with ReLU gain √2: std = √2/√fan (torchvision uses mode 'fan_out' for convs). */
export function kaimingNormal_(t: Tensor, mode: 'fan_in' | 'fan_out' = 'fan_in', generator: Generator = defaultGenerator): void {
  const f = fans(t);
  normal_(t, Math.SQRT2 / Math.sqrt(mode === 'fan_in' ? f.fanIn : f.fanOut), generator);
}

/**
 * PyTorch's default for Conv and Linear weights: kaiming_uniform(a=√5), i.e.
 * bound = gain·√(3/fan_in) with gain = √(2/(1+5)), which is 1/√fan_in.
 */
export function defaultWeightInit_(t: Tensor, generator: Generator = defaultGenerator): void {
  const bound = 1 / Math.sqrt(fans(t).fanIn);
  uniform_(t, -bound, bound, generator);
}
