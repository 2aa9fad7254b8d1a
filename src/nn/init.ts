// PyTorch's weight initialisations (seeded): kaiming normal/uniform, uniform, constants.
// They overwrite a tensor's values in place and do nothing on a data-less (meta) backend.
import { defaultGenerator, type Generator } from '../tensor/random';
import type { Tensor } from '../tensor/tensor';

/** fan_in = size(1)·receptive field, fan_out = size(0)·receptive field (torch.nn.init's rule). */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) throw new Error(`init: fan in/out need a tensor with at least 2 dimensions, got ${t.ndim}`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

/** Fills t with draws from `sample` (one pass, one copy); a data-less tensor keeps its shape only. */
function fill(t: Tensor, sample: () => number): void {
  if (!t.backend.hasData) return;
  const values = new Float64Array(t.numel);
  for (let i = 0; i < values.length; i++) values[i] = sample();
  t.storage = t.backend.fromValues(t.dtype, values);
}

/** U(low, high). */
export function uniform_(t: Tensor, low: number, high: number, generator: Generator = defaultGenerator): void {
  fill(t, () => low + (high - low) * generator.random());
}

/** N(0, std²). */
export function normal_(t: Tensor, std: number, generator: Generator = defaultGenerator): void {
  fill(t, () => std * generator.normal());
}

/** Every element = value. */
export function constant_(t: Tensor, value: number): void {
  fill(t, () => value);
}

/** Kaiming (He) normal with ReLU gain √2: std = √2/√fan (torchvision uses mode 'fan_out' for convs). */
export function kaimingNormal_(
  t: Tensor,
  mode: 'fan_in' | 'fan_out' = 'fan_in',
  generator: Generator = defaultGenerator,
): void {
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
