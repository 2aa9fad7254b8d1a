// Per-element and per-channel kernels of the ResNet family in plain C++ with OpenMP: ReLU,
// scaled add, batch-norm statistics / forward / backward, channel sums, global average pooling.
// Same formulas as the reference backend (src/backend/reference), sums in double.
#include <cmath>
#include <cstdint>

#include "kernels.h"

namespace resnext {

void relu(const float* x, float* y, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; i++) { const float v = x[i]; y[i] = v <= 0.0f ? 0.0f : v; }  // NaN stays NaN
}

void reluBackward(const float* dy, const float* y, float* dx, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; i++) { const float g = dy[i]; dx[i] = y[i] > 0.0f ? g : 0.0f; }  // both loads unconditional: a blend, no branch
}

void addScaled(const float* a, const float* b, float* out, int64_t n, float alpha, float beta) {
  if (!b || beta == 0.0f) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; i++) out[i] = alpha * a[i];
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; i++) out[i] = alpha * a[i] + beta * b[i];
}

// Sum of one row: vector lanes in float (a row is at most one feature map), the caller adds rows in double.
static inline double rowSum(const float* p, int64_t len) {
  float r = 0.0f;
#pragma omp simd reduction(+ : r)
  for (int64_t i = 0; i < len; i++) r += p[i];
  return r;
}

void channelSum(const float* x, float* out, int64_t n, int64_t c, int64_t hw) {
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < c; ch++) {
    double s = 0;
    for (int64_t b = 0; b < n; b++) s += rowSum(x + (b * c + ch) * hw, hw);
    out[ch] = static_cast<float>(s);
  }
}

void batchNormStats(const float* x, float* mean, float* var, int64_t n, int64_t c, int64_t hw) {
  const double count = static_cast<double>(n * hw);
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < c; ch++) {
    double s = 0;
    for (int64_t b = 0; b < n; b++) s += rowSum(x + (b * c + ch) * hw, hw);
    const double m = s / count;
    const float mf = static_cast<float>(m);
    double q = 0;
    for (int64_t b = 0; b < n; b++) {
      const float* p = x + (b * c + ch) * hw;
      float r = 0.0f;
#pragma omp simd reduction(+ : r)
      for (int64_t i = 0; i < hw; i++) { const float d = p[i] - mf; r += d * d; }
      q += r;
    }
    mean[ch] = static_cast<float>(m);
    var[ch] = static_cast<float>(q / count);
  }
}

void batchNormForward(const float* x, const float* mean, const float* var, const float* gamma, const float* beta, float eps, float* y, int64_t n, int64_t c, int64_t hw) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < n; b++) {
    for (int64_t ch = 0; ch < c; ch++) {
      const double invstd = 1.0 / std::sqrt(static_cast<double>(var[ch]) + eps);
      const double scale = (gamma ? gamma[ch] : 1.0) * invstd;
      const float sc = static_cast<float>(scale), sh = static_cast<float>((beta ? beta[ch] : 0.0) - mean[ch] * scale);
      const float* p = x + (b * c + ch) * hw;
      float* q = y + (b * c + ch) * hw;
#pragma omp simd
      for (int64_t i = 0; i < hw; i++) q[i] = p[i] * sc + sh;
    }
  }
}

// dβ = Σdy, dγ = Σdy·x̂; batch statistics: dx = γσ⁻¹/M·(M·dy − dβ − x̂·dγ); running: dx = γσ⁻¹·dy.
void batchNormBackward(const float* dy, const float* x, const float* mean, const float* var, const float* gamma, float eps, bool batchStats,
                       float* dx, float* dgamma, float* dbeta, int64_t n, int64_t c, int64_t hw) {
  const double count = static_cast<double>(n * hw);
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < c; ch++) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(var[ch]) + eps), mu = mean[ch];
    double sdy = 0, sdyx = 0;
    const float muf = static_cast<float>(mu);
    for (int64_t b = 0; b < n; b++) {
      const float* g = dy + (b * c + ch) * hw;
      const float* p = x + (b * c + ch) * hw;
      float rg = 0.0f, rgx = 0.0f;
#pragma omp simd reduction(+ : rg, rgx)
      for (int64_t i = 0; i < hw; i++) { rg += g[i]; rgx += g[i] * (p[i] - muf); }
      sdy += rg;
      sdyx += rgx;
    }
    sdyx *= invstd;
    dgamma[ch] = static_cast<float>(sdyx);
    dbeta[ch] = static_cast<float>(sdy);
    const double k = (gamma ? gamma[ch] : 1.0) * invstd;
    for (int64_t b = 0; b < n; b++) {
      const float* g = dy + (b * c + ch) * hw;
      const float* p = x + (b * c + ch) * hw;
      float* o = dx + (b * c + ch) * hw;
      if (batchStats) {
        // dx = k·dy − k·Σdy/M − k·σ⁻¹·dγ/M·(x − μ), folded per channel into dx = ca·dy + cb·x + cc
        const float ca = static_cast<float>(k), cb = static_cast<float>(-k * invstd * sdyx / count);
        const float cc = static_cast<float>(-k * sdy / count + k * invstd * sdyx * mu / count);
#pragma omp simd
        for (int64_t i = 0; i < hw; i++) o[i] = ca * g[i] + cb * p[i] + cc;
      } else {
        const float ca = static_cast<float>(k);
#pragma omp simd
        for (int64_t i = 0; i < hw; i++) o[i] = ca * g[i];
      }
    }
  }
}

}  // namespace resnext
