// Per-element and per-channel kernels of the ResNet family in plain C++ with OpenMP: ReLU,
// scaled add, batch-norm statistics / forward / backward, channel sums, global average pooling.
// Same formulas as the reference backend (src/backend/reference), sums in double.
#include <cmath>
#include <cstdint>

#include "kernels.h"

namespace resnext {

void relu(const float* x, float* y, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; i++) { float v = x[i]; y[i] = (v > 0.0f || std::isnan(v)) ? v : 0.0f; }
}

void reluBackward(const float* dy, const float* y, float* dx, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
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

void channelSum(const float* x, float* out, int64_t n, int64_t c, int64_t hw) {
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < c; ch++) {
    double s = 0;
    for (int64_t b = 0; b < n; b++) {
      const float* p = x + (b * c + ch) * hw;
      for (int64_t i = 0; i < hw; i++) s += p[i];
    }
    out[ch] = static_cast<float>(s);
  }
}

void batchNormStats(const float* x, float* mean, float* var, int64_t n, int64_t c, int64_t hw) {
  const double count = static_cast<double>(n * hw);
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < c; ch++) {
    double s = 0;
    for (int64_t b = 0; b < n; b++) { const float* p = x + (b * c + ch) * hw; for (int64_t i = 0; i < hw; i++) s += p[i]; }
    const double m = s / count;
    double q = 0;
    for (int64_t b = 0; b < n; b++) { const float* p = x + (b * c + ch) * hw; for (int64_t i = 0; i < hw; i++) { double d = p[i] - m; q += d * d; } }
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
    for (int64_t b = 0; b < n; b++) {
      const float* g = dy + (b * c + ch) * hw;
      const float* p = x + (b * c + ch) * hw;
      for (int64_t i = 0; i < hw; i++) { sdy += g[i]; sdyx += g[i] * (p[i] - mu) * invstd; }
    }
    dgamma[ch] = static_cast<float>(sdyx);
    dbeta[ch] = static_cast<float>(sdy);
    const double k = (gamma ? gamma[ch] : 1.0) * invstd;
    for (int64_t b = 0; b < n; b++) {
      const float* g = dy + (b * c + ch) * hw;
      const float* p = x + (b * c + ch) * hw;
      float* o = dx + (b * c + ch) * hw;
      if (batchStats) {
        const double a = k / count;
        for (int64_t i = 0; i < hw; i++) o[i] = static_cast<float>(a * (count * g[i] - sdy - (p[i] - mu) * invstd * sdyx));
      } else {
        for (int64_t i = 0; i < hw; i++) o[i] = static_cast<float>(k * g[i]);
      }
    }
  }
}

}  // namespace resnext
