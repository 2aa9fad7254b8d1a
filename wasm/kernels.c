// ResNeXt.ts WebAssembly kernels (wasm32 + SIMD128, freestanding: no libc): a packed SIMD GEMM and
// the grouped convolution's forward, backward-data and backward-weight passes built on it
// (im2col/col2im per image and group, as src/backend/reference/conv.ts), plus matmul and a
// multiply-add throughput probe. Memory is an arena the JavaScript side resets per call.
#include <wasm_simd128.h>

typedef __SIZE_TYPE__ size_t;
extern unsigned char __heap_base;
static size_t arena_top;
/** Floats a kernel asked for and could not get (0: none), reported by arena_failed(). */
static double arena_missing;

#define EXPORT(name) __attribute__((export_name(#name)))

EXPORT(arena_reset) void arena_reset(void) {
  arena_top = (size_t)&__heap_base;
  arena_missing = 0;
}

/**
 * `count` floats, 64-byte aligned, growing the memory as needed; 0 when it cannot grow (4 GiB).
 * The count is a double: products of 32-bit sizes (an im2col buffer) must not wrap.
 */
EXPORT(arena_alloc) float* arena_alloc(double count) {
  if (arena_top == 0) arena_reset();
  size_t start = (arena_top + 63) & ~(size_t)63;
  double end = (double)start + count * 4;
  if (end > 4294901760.0) {
    arena_missing = count;
    return 0;
  }
  size_t pages = (size_t)((end + 65535) / 65536), have = __builtin_wasm_memory_size(0);
  if (pages > have && __builtin_wasm_memory_grow(0, pages - have) == (size_t)-1) {
    arena_missing = count;
    return 0;
  }
  arena_top = (size_t)end;
  return (float*)start;
}

/** The floats of the allocation that failed since arena_reset(), or 0. */
EXPORT(arena_failed) double arena_failed(void) { return arena_missing; }

static void zero(float* p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = 0;
}

// ---- GEMM: C[m,n] (+)= A·B with A(i,p) = a[i*rsa + p*csa], B(p,j) = b[p*rsb + j*csb] ----------
enum { MR = 4, NR = 8, KC = 256 };

/** Packs rows [i0, i0+MR) × depth [p0, p0+kc) of A, zero-padded: packed[p*MR + r]. */
static void pack_a(const float* a, int rsa, int csa, int m, int i0, int p0, int kc, float* out) {
  for (int p = 0; p < kc; p++)
    for (int r = 0; r < MR; r++) out[p * MR + r] = i0 + r < m ? a[(i0 + r) * rsa + (p0 + p) * csa] : 0;
}

/** Packs depth [p0, p0+kc) × columns [j0, j0+NR) of B, zero-padded: packed[p*NR + c]. */
static void pack_b(const float* b, int rsb, int csb, int n, int j0, int p0, int kc, float* out) {
  for (int p = 0; p < kc; p++) {
    const float* row = b + (p0 + p) * rsb;
    if (csb == 1 && j0 + NR <= n) {
      wasm_v128_store(out + p * NR, wasm_v128_load(row + j0));
      wasm_v128_store(out + p * NR + 4, wasm_v128_load(row + j0 + 4));
    } else {
      for (int c = 0; c < NR; c++) out[p * NR + c] = j0 + c < n ? row[(j0 + c) * csb] : 0;
    }
  }
}

/** acc[MR][NR] = Σ_p ap[p]·bp[p], added to (or stored over) the valid part of C. */
static void micro(int kc, const float* ap, const float* bp, float* c, int ldc, int rows, int cols, int add) {
  v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int p = 0; p < kc; p++) {
    v128_t b0 = wasm_v128_load(bp + p * NR), b1 = wasm_v128_load(bp + p * NR + 4);
    v128_t a0 = wasm_f32x4_splat(ap[p * MR]), a1 = wasm_f32x4_splat(ap[p * MR + 1]);
    v128_t a2 = wasm_f32x4_splat(ap[p * MR + 2]), a3 = wasm_f32x4_splat(ap[p * MR + 3]);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
  }
  float acc[MR * NR] __attribute__((aligned(16)));
  wasm_v128_store(acc + 0, c00), wasm_v128_store(acc + 4, c01), wasm_v128_store(acc + 8, c10);
  wasm_v128_store(acc + 12, c11), wasm_v128_store(acc + 16, c20), wasm_v128_store(acc + 20, c21);
  wasm_v128_store(acc + 24, c30), wasm_v128_store(acc + 28, c31);
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++) c[r * ldc + j] = add ? c[r * ldc + j] + acc[r * NR + j] : acc[r * NR + j];
}

/** C = A·B (accumulate 0) or C += A·B (accumulate 1); C is row-major with leading dimension ldc. */
EXPORT(gemm)
void gemm(int m, int n, int k, const float* a, int rsa, int csa, const float* b, int rsb, int csb, float* c, int ldc,
          int accumulate) {
  if (k == 0) {
    if (!accumulate)
      for (int i = 0; i < m; i++) zero(c + i * ldc, n);
    return;
  }
  size_t mark = arena_top;
  int mp = (m + MR - 1) / MR;
  float* ap = arena_alloc((double)mp * MR * KC);
  float* bp = arena_alloc((double)NR * KC);
  if (!ap || !bp) return;
  for (int p0 = 0; p0 < k; p0 += KC) {
    int kc = k - p0 < KC ? k - p0 : KC;
    for (int ib = 0; ib < mp; ib++) pack_a(a, rsa, csa, m, ib * MR, p0, kc, ap + (size_t)ib * MR * kc);
    for (int j0 = 0; j0 < n; j0 += NR) {
      pack_b(b, rsb, csb, n, j0, p0, kc, bp);
      int cols = n - j0 < NR ? n - j0 : NR;
      for (int ib = 0; ib < mp; ib++) {
        int rows = m - ib * MR < MR ? m - ib * MR : MR;
        micro(kc, ap + (size_t)ib * MR * kc, bp, c + ib * MR * ldc + j0, ldc, rows, cols, accumulate || p0 > 0);
      }
    }
  }
  arena_top = mark;
}

// ---- grouped convolution (NCHW), geometry as 16 ints: n c h w o kh kw oh ow sh sw ph pw dh dw groups ----
typedef struct {
  int n, c, h, w, o, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, groups;
} geometry;

static int pointwise(const geometry* g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/** Unfolds `cg` channels of one image into col[cg·kh·kw, oh·ow]. */
static void im2col(const float* x, int cg, const geometry* g, float* col) {
  int r = 0;
  for (int c = 0; c < cg; c++)
    for (int ki = 0; ki < g->kh; ki++)
      for (int kj = 0; kj < g->kw; kj++, r++) {
        float* row = col + (size_t)r * g->oh * g->ow;
        for (int oy = 0; oy < g->oh; oy++) {
          int iy = oy * g->sh - g->ph + ki * g->dh;
          float* dst = row + oy * g->ow;
          if (iy < 0 || iy >= g->h) {
            zero(dst, g->ow);
            continue;
          }
          const float* src = x + ((size_t)c * g->h + iy) * g->w;
          for (int ox = 0; ox < g->ow; ox++) {
            int ix = ox * g->sw - g->pw + kj * g->dw;
            dst[ox] = ix >= 0 && ix < g->w ? src[ix] : 0;
          }
        }
      }
}

/** Folds col[cg·kh·kw, oh·ow] back onto `cg` channels of one image, accumulating overlaps. */
static void col2im(const float* col, int cg, const geometry* g, float* dx) {
  int r = 0;
  for (int c = 0; c < cg; c++)
    for (int ki = 0; ki < g->kh; ki++)
      for (int kj = 0; kj < g->kw; kj++, r++) {
        const float* row = col + (size_t)r * g->oh * g->ow;
        for (int oy = 0; oy < g->oh; oy++) {
          int iy = oy * g->sh - g->ph + ki * g->dh;
          if (iy < 0 || iy >= g->h) continue;
          float* dst = dx + ((size_t)c * g->h + iy) * g->w;
          for (int ox = 0; ox < g->ow; ox++) {
            int ix = ox * g->sw - g->pw + kj * g->dw;
            if (ix >= 0 && ix < g->w) dst[ix] += row[oy * g->ow + ox];
          }
        }
      }
}

/** y = conv(x, w) + bias (bias may be 0). */
EXPORT(conv2d) void conv2d(const float* x, const float* w, const float* bias, float* y, const geometry* g) {
  int cg = g->c / g->groups, og = g->o / g->groups, kk = cg * g->kh * g->kw, hw = g->oh * g->ow;
  size_t mark = arena_top;
  float* col = pointwise(g) ? 0 : arena_alloc((double)kk * hw);
  if (arena_missing) return;
  for (int n = 0; n < g->n; n++)
    for (int gi = 0; gi < g->groups; gi++) {
      const float* xs = x + ((size_t)n * g->c + gi * cg) * g->h * g->w;
      if (col) im2col(xs, cg, g, col);
      gemm(og, hw, kk, w + (size_t)gi * og * kk, kk, 1, col ? col : xs, hw, 1, y + ((size_t)n * g->o + gi * og) * hw, hw,
           0);
    }
  if (bias)
    for (int n = 0; n < g->n; n++)
      for (int o = 0; o < g->o; o++) {
        float* yo = y + ((size_t)n * g->o + o) * hw;
        for (int i = 0; i < hw; i++) yo[i] += bias[o];
      }
  arena_top = mark;
}

/** dx = conv_transpose(dy, w): per image and group colᵀ = Wᵀ·dy, then col2im. */
EXPORT(conv2d_backward_data) void conv2d_backward_data(const float* dy, const float* w, float* dx, const geometry* g) {
  int cg = g->c / g->groups, og = g->o / g->groups, kk = cg * g->kh * g->kw, hw = g->oh * g->ow;
  size_t mark = arena_top;
  float* col = pointwise(g) ? 0 : arena_alloc((double)kk * hw);
  if (arena_missing) return;
  zero(dx, (size_t)g->n * g->c * g->h * g->w);
  for (int n = 0; n < g->n; n++)
    for (int gi = 0; gi < g->groups; gi++) {
      float* dxs = dx + ((size_t)n * g->c + gi * cg) * g->h * g->w;
      gemm(kk, hw, og, w + (size_t)gi * og * kk, 1, kk, dy + ((size_t)n * g->o + gi * og) * hw, hw, 1, col ? col : dxs,
           hw, 0);
      if (col) col2im(col, cg, g, dxs);
    }
  arena_top = mark;
}

/** dw = Σ_n dy·colᵀ per group. */
EXPORT(conv2d_backward_weight)
void conv2d_backward_weight(const float* dy, const float* x, float* dw, const geometry* g) {
  int cg = g->c / g->groups, og = g->o / g->groups, kk = cg * g->kh * g->kw, hw = g->oh * g->ow;
  size_t mark = arena_top;
  float* col = pointwise(g) ? 0 : arena_alloc((double)kk * hw);
  if (arena_missing) return;
  zero(dw, (size_t)g->o * kk);
  for (int n = 0; n < g->n; n++)
    for (int gi = 0; gi < g->groups; gi++) {
      const float* xs = x + ((size_t)n * g->c + gi * cg) * g->h * g->w;
      if (col) im2col(xs, cg, g, col);
      gemm(og, kk, hw, dy + ((size_t)n * g->o + gi * og) * hw, hw, 1, col ? col : xs, 1, hw, dw + (size_t)gi * og * kk,
           kk, 1);
    }
  arena_top = mark;
}

/** c[m,n] = op(a)·op(b): a is [m,k] ([k,m] when trans_a), b is [k,n] ([n,k] when trans_b). */
EXPORT(matmul) void matmul(const float* a, const float* b, float* c, int m, int k, int n, int trans_a, int trans_b) {
  gemm(m, n, k, a, trans_a ? 1 : k, trans_a ? m : 1, b, trans_b ? 1 : n, trans_b ? k : 1, c, n, 0);
}

/** Multiply-adds in `iters` rounds of 12 independent f32x4 chains (16 would spill on x86) (the wasm peak probe's loop). */
EXPORT(madd_probe) float madd_probe(int iters) {
  v128_t acc[12], x = wasm_f32x4_splat(0.999999f), y = wasm_f32x4_splat(1e-7f);
  for (int i = 0; i < 12; i++) acc[i] = wasm_f32x4_splat((float)i);
  for (int it = 0; it < iters; it++)
    for (int i = 0; i < 12; i++) acc[i] = wasm_f32x4_add(wasm_f32x4_mul(acc[i], x), y);
  v128_t s = acc[0];
  for (int i = 1; i < 12; i++) s = wasm_f32x4_add(s, acc[i]);
  return wasm_f32x4_extract_lane(s, 0);
}

// ---- batch norm over [N, C, HW] and ReLU: the reference's arithmetic (sums and scales in double) ----

/** Per-channel mean and biased variance (two passes). */
EXPORT(batch_norm_stats) void batch_norm_stats(const float* x, float* mean, float* var, int n, int c, int hw) {
  double count = (double)n * hw;
  for (int ch = 0; ch < c; ch++) {
    double s = 0, q = 0;
    for (int b = 0; b < n; b++) {
      const float* xs = x + ((size_t)b * c + ch) * hw;
      for (int i = 0; i < hw; i++) s += xs[i];
    }
    double m = s / count;
    for (int b = 0; b < n; b++) {
      const float* xs = x + ((size_t)b * c + ch) * hw;
      for (int i = 0; i < hw; i++) {
        double d = xs[i] - m;
        q += d * d;
      }
    }
    mean[ch] = (float)m;
    var[ch] = (float)(q / count);
  }
}

/** y = x·scale + shift per channel, scale = γ/√(var+eps), shift = β − mean·scale (γ, β may be 0). */
EXPORT(batch_norm_forward)
void batch_norm_forward(const float* x, const float* mean, const float* var, const float* gamma, const float* beta,
                        double eps, float* y, int n, int c, int hw) {
  for (int ch = 0; ch < c; ch++) {
    double invstd = 1 / __builtin_sqrt((double)var[ch] + eps);
    double scale = (gamma ? gamma[ch] : 1) * invstd, shift = (beta ? beta[ch] : 0) - mean[ch] * scale;
    for (int b = 0; b < n; b++) {
      size_t base = ((size_t)b * c + ch) * hw;
      for (int i = 0; i < hw; i++) y[base + i] = (float)(x[base + i] * scale + shift);
    }
  }
}

/** dβ = Σdy, dγ = Σdy·x̂; dx = γσ⁻¹/M·(M·dy − dβ − x̂·dγ) with batch statistics, else γσ⁻¹·dy. */
EXPORT(batch_norm_backward)
void batch_norm_backward(const float* dy, const float* x, const float* mean, const float* var, const float* gamma,
                         double eps, int batch_stats, float* dx, float* dgamma, float* dbeta, int n, int c, int hw) {
  double count = (double)n * hw;
  for (int ch = 0; ch < c; ch++) {
    double invstd = 1 / __builtin_sqrt((double)var[ch] + eps), mu = mean[ch], sdy = 0, sdyx = 0;
    for (int b = 0; b < n; b++) {
      size_t base = ((size_t)b * c + ch) * hw;
      for (int i = 0; i < hw; i++) {
        double d = dy[base + i];
        sdy += d;
        sdyx += d * (x[base + i] - mu) * invstd;
      }
    }
    dgamma[ch] = (float)sdyx;
    dbeta[ch] = (float)sdy;
    double k = (gamma ? gamma[ch] : 1) * invstd;
    for (int b = 0; b < n; b++) {
      size_t base = ((size_t)b * c + ch) * hw;
      if (batch_stats) {
        for (int i = 0; i < hw; i++) {
          double xhat = (x[base + i] - mu) * invstd;
          dx[base + i] = (float)(k / count * (count * dy[base + i] - sdy - xhat * sdyx));
        }
      } else {
        for (int i = 0; i < hw; i++) dx[base + i] = (float)(k * dy[base + i]);
      }
    }
  }
}

/** y = max(x, 0), NaN kept (as PyTorch); y may be x. */
EXPORT(relu) void relu(const float* x, float* y, int len) {
  for (int i = 0; i < len; i++) y[i] = x[i] > 0 || x[i] != x[i] ? x[i] : 0;
}

/** dx = dy where y > 0, else 0. */
EXPORT(relu_backward) void relu_backward(const float* dy, const float* y, float* dx, int len) {
  for (int i = 0; i < len; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
}
