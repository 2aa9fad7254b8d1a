// Reference batch normalization over [N, C, HW]: statistics, forward, backward (sums in float64).
import type { BatchNormGrads, ChannelGeometry, MomentPair } from '../contract';
import { allocLike, type FArray } from './storage';

/** Per-channel sum over N and HW. */
export function channelSum(x: FArray, g: ChannelGeometry): FArray {
  const out = allocLike(x, g.c);
  for (let c = 0; c < g.c; c++) {
    let s = 0;
    for (let n = 0; n < g.n; n++) {
      const base = (n * g.c + c) * g.hw;
      for (let i = 0; i < g.hw; i++) s += x[base + i];
    }
    out[c] = s;
  }
  return out;
}

/** Per-channel mean and biased variance (two passes for accuracy). */
export function batchNormStats(x: FArray, g: ChannelGeometry): MomentPair<FArray> {
  const mean = allocLike(x, g.c),
    variance = allocLike(x, g.c);
  const count = g.n * g.hw;
  for (let c = 0; c < g.c; c++) {
    let s = 0;
    for (let n = 0; n < g.n; n++) {
      const base = (n * g.c + c) * g.hw;
      for (let i = 0; i < g.hw; i++) s += x[base + i];
    }
    const m = s / count;
    let q = 0;
    for (let n = 0; n < g.n; n++) {
      const base = (n * g.c + c) * g.hw;
      for (let i = 0; i < g.hw; i++) {
        const d = x[base + i] - m;
        q += d * d;
      }
    }
    mean[c] = m;
    variance[c] = q / count;
  }
  return { mean, variance };
}

/** y = (x - mean)·invstd·gamma + beta. */
export function batchNormForward(
  x: FArray,
  mean: FArray,
  variance: FArray,
  gamma: FArray | null,
  beta: FArray | null,
  eps: number,
  g: ChannelGeometry,
): FArray {
  const y = allocLike(x, x.length);
  for (let c = 0; c < g.c; c++) {
    const invstd = 1 / Math.sqrt(variance[c] + eps);
    const scale = (gamma ? gamma[c] : 1) * invstd;
    const shift = (beta ? beta[c] : 0) - mean[c] * scale;
    for (let n = 0; n < g.n; n++) {
      const base = (n * g.c + c) * g.hw;
      for (let i = 0; i < g.hw; i++) y[base + i] = x[base + i] * scale + shift;
    }
  }
  return y;
}

/**
 * With x̂ = (x-μ)·σ⁻¹, M = N·HW: dβ = Σdy, dγ = Σdy·x̂.
 * Batch statistics: dx = γσ⁻¹/M · (M·dy − dβ − x̂·dγ)  (μ, σ depend on x).
 * Running statistics: dx = γσ⁻¹·dy.
 */
export function batchNormBackward(
  dy: FArray,
  x: FArray,
  mean: FArray,
  variance: FArray,
  gamma: FArray | null,
  eps: number,
  batchStats: boolean,
  g: ChannelGeometry,
): BatchNormGrads<FArray> {
  const dx = allocLike(x, x.length),
    dgamma = allocLike(x, g.c),
    dbeta = allocLike(x, g.c);
  const count = g.n * g.hw;
  for (let c = 0; c < g.c; c++) {
    const invstd = 1 / Math.sqrt(variance[c] + eps),
      mu = mean[c];
    let sdy = 0,
      sdyx = 0;
    for (let n = 0; n < g.n; n++) {
      const base = (n * g.c + c) * g.hw;
      for (let i = 0; i < g.hw; i++) {
        const d = dy[base + i];
        sdy += d;
        sdyx += d * (x[base + i] - mu) * invstd;
      }
    }
    dgamma[c] = sdyx;
    dbeta[c] = sdy;
    const k = (gamma ? gamma[c] : 1) * invstd;
    for (let n = 0; n < g.n; n++) {
      const base = (n * g.c + c) * g.hw;
      if (batchStats) {
        for (let i = 0; i < g.hw; i++) {
          const xhat = (x[base + i] - mu) * invstd;
          dx[base + i] = (k / count) * (count * dy[base + i] - sdy - xhat * sdyx);
        }
      } else {
        for (let i = 0; i < g.hw; i++) dx[base + i] = k * dy[base + i];
      }
    }
  }
  return { dx, dgamma, dbeta };
}
