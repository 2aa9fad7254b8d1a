// Reference grouped convolution: per image and group, im2col + gemm (forward, backward-data,
// backward-weight). Group g reads input channels [g·C/G, (g+1)·C/G) and writes outputs [g·O/G, …).
import type { ConvGeometry } from '../contract';
import { gemm } from './gemm';
import { allocLike, type FArray } from './storage';

/** True when the convolution reads its input exactly as a [C, H·W] matrix (1x1, stride 1, no pad). */
function isPointwise(g: ConvGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.strideH === 1 && g.strideW === 1 && g.padH === 0 && g.padW === 0;
}

/** Unfolds channels [c0, c0+cg) of image `base` into col[cg·kh·kw, oh·ow]. */
function im2col(x: FArray, base: number, cg: number, g: ConvGeometry, col: FArray): void {
  const { h, w, kh, kw, oh, ow, strideH, strideW, padH, padW, dilH, dilW } = g;
  let r = 0;
  for (let c = 0; c < cg; c++) {
    const xc = base + c * h * w;
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++, r++) {
        const row = r * oh * ow;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * strideH - padH + ki * dilH;
          const dst = row + oy * ow;
          if (iy < 0 || iy >= h) {
            col.fill(0, dst, dst + ow);
            continue;
          }
          const src = xc + iy * w;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * strideW - padW + kj * dilW;
            col[dst + ox] = ix >= 0 && ix < w ? x[src + ix] : 0;
          }
        }
      }
    }
  }
}

/** Folds col[cg·kh·kw, oh·ow] back onto channels of image `base`, accumulating overlaps. */
function col2im(col: FArray, cg: number, g: ConvGeometry, dx: FArray, base: number): void {
  const { h, w, kh, kw, oh, ow, strideH, strideW, padH, padW, dilH, dilW } = g;
  let r = 0;
  for (let c = 0; c < cg; c++) {
    const xc = base + c * h * w;
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++, r++) {
        const row = r * oh * ow;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * strideH - padH + ki * dilH;
          if (iy < 0 || iy >= h) continue;
          const dst = xc + iy * w,
            src = row + oy * ow;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * strideW - padW + kj * dilW;
            if (ix >= 0 && ix < w) dx[dst + ix] += col[src + ox];
          }
        }
      }
    }
  }
}

/** y = conv(x, weight) + bias. */
export function conv2d(x: FArray, weight: FArray, bias: FArray | null, g: ConvGeometry): FArray {
  const cg = g.c / g.groups,
    og = g.o / g.groups,
    kk = cg * g.kh * g.kw,
    hw = g.oh * g.ow;
  const y = allocLike(x, g.n * g.o * hw);
  const direct = isPointwise(g);
  const col = direct ? null : allocLike(x, kk * hw);
  for (let n = 0; n < g.n; n++) {
    for (let gi = 0; gi < g.groups; gi++) {
      const xBase = (n * g.c + gi * cg) * g.h * g.w;
      let b = { data: x, offset: xBase, ld: hw };
      if (col) {
        im2col(x, xBase, cg, g, col);
        b = { data: col, offset: 0, ld: hw };
      }
      gemm(
        false,
        false,
        og,
        hw,
        kk,
        { data: weight, offset: gi * og * kk, ld: kk },
        b,
        { data: y, offset: (n * g.o + gi * og) * hw, ld: hw },
        false,
      );
    }
  }
  if (bias) {
    for (let n = 0; n < g.n; n++) {
      for (let o = 0; o < g.o; o++) {
        const base = (n * g.o + o) * hw,
          v = bias[o];
        for (let i = 0; i < hw; i++) y[base + i] += v;
      }
    }
  }
  return y;
}

/** dx = conv_transpose(dy, weight): per group colᵀ = Wᵀ·dy, then col2im. */
export function conv2dBackwardData(dy: FArray, weight: FArray, g: ConvGeometry): FArray {
  const cg = g.c / g.groups,
    og = g.o / g.groups,
    kk = cg * g.kh * g.kw,
    hw = g.oh * g.ow;
  const dx = allocLike(dy, g.n * g.c * g.h * g.w);
  const direct = isPointwise(g);
  const col = direct ? null : allocLike(dy, kk * hw);
  for (let n = 0; n < g.n; n++) {
    for (let gi = 0; gi < g.groups; gi++) {
      const xBase = (n * g.c + gi * cg) * g.h * g.w;
      const out = col ? { data: col, offset: 0, ld: hw } : { data: dx, offset: xBase, ld: hw };
      gemm(
        true,
        false,
        kk,
        hw,
        og,
        { data: weight, offset: gi * og * kk, ld: kk },
        { data: dy, offset: (n * g.o + gi * og) * hw, ld: hw },
        out,
        false,
      );
      if (col) col2im(col, cg, g, dx, xBase);
    }
  }
  return dx;
}

/** dW = Σ_n dy·colᵀ per group. */
export function conv2dBackwardWeight(dy: FArray, x: FArray, g: ConvGeometry): FArray {
  const cg = g.c / g.groups,
    og = g.o / g.groups,
    kk = cg * g.kh * g.kw,
    hw = g.oh * g.ow;
  const dw = allocLike(dy, g.o * kk);
  const direct = isPointwise(g);
  const col = direct ? null : allocLike(x, kk * hw);
  for (let n = 0; n < g.n; n++) {
    for (let gi = 0; gi < g.groups; gi++) {
      const xBase = (n * g.c + gi * cg) * g.h * g.w;
      let b = { data: x, offset: xBase, ld: hw };
      if (col) {
        im2col(x, xBase, cg, g, col);
        b = { data: col, offset: 0, ld: hw };
      }
      gemm(
        false,
        true,
        og,
        kk,
        hw,
        { data: dy, offset: (n * g.o + gi * og) * hw, ld: hw },
        b,
        { data: dw, offset: gi * og * kk, ld: kk },
        true,
      );
    }
  }
  return dw;
}
