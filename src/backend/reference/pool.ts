// Reference pooling: max (padding = -∞), average (count_include_pad), adaptive average
// (PyTorch's windows: start = ⌊i·H/oh⌋, end = ⌈(i+1)·H/oh⌉), with their gradients.
import type { PoolGeometry } from '../contract';
import { allocLike, type FArray } from './storage';

/** Calls visit(planeBase, outIndex, y0, y1, x0, x1) for every output cell, windows clipped to the image. */
function forEachWindow(
  g: PoolGeometry,
  visit: (
    plane: number,
    out: number,
    y0: number,
    y1: number,
    x0: number,
    x1: number,
    yPad: number,
    xPad: number,
  ) => void,
): void {
  for (let p = 0; p < g.n * g.c; p++) {
    for (let oy = 0; oy < g.oh; oy++) {
      const ys = oy * g.strideH - g.padH,
        ye = ys + g.kh;
      for (let ox = 0; ox < g.ow; ox++) {
        const xs = ox * g.strideW - g.padW,
          xe = xs + g.kw;
        // the padded window size (for count_include_pad), capped at the padded image edge
        const yPad = Math.min(ye, g.h + g.padH) - ys,
          xPad = Math.min(xe, g.w + g.padW) - xs;
        visit(
          p * g.h * g.w,
          (p * g.oh + oy) * g.ow + ox,
          Math.max(ys, 0),
          Math.min(ye, g.h),
          Math.max(xs, 0),
          Math.min(xe, g.w),
          yPad,
          xPad,
        );
      }
    }
  }
}

/** Index (in x) of the first maximum of each window. */
function argmaxWindows(x: FArray, g: PoolGeometry): Int32Array {
  const idx = new Int32Array(g.n * g.c * g.oh * g.ow);
  forEachWindow(g, (plane, out, y0, y1, x0, x1) => {
    let best = -Infinity,
      at = -1;
    for (let y = y0; y < y1; y++) {
      for (let xx = x0; xx < x1; xx++) {
        const v = x[plane + y * g.w + xx];
        // PyTorch's rule: a NaN always wins, so it propagates
        if (v > best || Number.isNaN(v) || at < 0) {
          best = v;
          at = plane + y * g.w + xx;
        }
      }
    }
    idx[out] = at;
  });
  return idx;
}

/** Max pooling. */
export function maxPool2d(x: FArray, g: PoolGeometry): FArray {
  const idx = argmaxWindows(x, g);
  const y = allocLike(x, idx.length);
  for (let i = 0; i < idx.length; i++) y[i] = x[idx[i]];
  return y;
}

/** Routes each output gradient to its window's maximum. */
export function maxPool2dBackward(dy: FArray, x: FArray, g: PoolGeometry): FArray {
  const idx = argmaxWindows(x, g);
  const dx = allocLike(dy, x.length);
  for (let i = 0; i < idx.length; i++) dx[idx[i]] += dy[i];
  return dx;
}

/** Average pooling. */
export function avgPool2d(x: FArray, g: PoolGeometry, countIncludePad: boolean): FArray {
  const y = allocLike(x, g.n * g.c * g.oh * g.ow);
  forEachWindow(g, (plane, out, y0, y1, x0, x1, yPad, xPad) => {
    let s = 0;
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) s += x[plane + yy * g.w + xx];
    y[out] = s / (countIncludePad ? yPad * xPad : (y1 - y0) * (x1 - x0));
  });
  return y;
}

/** Spreads each output gradient evenly over its window. */
export function avgPool2dBackward(dy: FArray, g: PoolGeometry, countIncludePad: boolean): FArray {
  const dx = allocLike(dy, g.n * g.c * g.h * g.w);
  forEachWindow(g, (plane, out, y0, y1, x0, x1, yPad, xPad) => {
    const v = dy[out] / (countIncludePad ? yPad * xPad : (y1 - y0) * (x1 - x0));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) dx[plane + yy * g.w + xx] += v;
  });
  return dx;
}

/** Calls visit(plane, out, y0, y1, x0, x1) for each adaptive window. */
function forEachAdaptiveWindow(
  g: PoolGeometry,
  visit: (plane: number, out: number, y0: number, y1: number, x0: number, x1: number) => void,
): void {
  for (let p = 0; p < g.n * g.c; p++) {
    for (let oy = 0; oy < g.oh; oy++) {
      const y0 = Math.floor((oy * g.h) / g.oh),
        y1 = Math.ceil(((oy + 1) * g.h) / g.oh);
      for (let ox = 0; ox < g.ow; ox++) {
        const x0 = Math.floor((ox * g.w) / g.ow),
          x1 = Math.ceil(((ox + 1) * g.w) / g.ow);
        visit(p * g.h * g.w, (p * g.oh + oy) * g.ow + ox, y0, y1, x0, x1);
      }
    }
  }
}

/** Adaptive average pooling. */
export function adaptiveAvgPool2d(x: FArray, g: PoolGeometry): FArray {
  const y = allocLike(x, g.n * g.c * g.oh * g.ow);
  forEachAdaptiveWindow(g, (plane, out, y0, y1, x0, x1) => {
    let s = 0;
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) s += x[plane + yy * g.w + xx];
    y[out] = s / ((y1 - y0) * (x1 - x0));
  });
  return y;
}

/** Gradient of adaptive average pooling. */
export function adaptiveAvgPool2dBackward(dy: FArray, g: PoolGeometry): FArray {
  const dx = allocLike(dy, g.n * g.c * g.h * g.w);
  forEachAdaptiveWindow(g, (plane, out, y0, y1, x0, x1) => {
    const v = dy[out] / ((y1 - y0) * (x1 - x0));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) dx[plane + yy * g.w + xx] += v;
  });
  return dx;
}
