// Pooling, classifier-loss and optimizer kernels as OpenMP loops, mirroring the reference backend:
// max pooling (padding = -inf, first maximum wins, NaN propagates), adaptive average pooling
// (PyTorch's windows), log-softmax, label-smoothed NLL, row bias, elementwise product, SGD step.
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels.h"

namespace resnext {

namespace {
// Index (within the plane) of the first maximum of one pooling window.
inline int64_t argmaxWindow(const float* plane, const PoolGeometry& g, int64_t oy, int64_t ox) {
  const int64_t ys = oy * g.strideH - g.padH, xs = ox * g.strideW - g.padW;
  const int64_t y0 = ys < 0 ? 0 : ys, y1 = ys + g.kh < g.h ? ys + g.kh : g.h;
  const int64_t x0 = xs < 0 ? 0 : xs, x1 = xs + g.kw < g.w ? xs + g.kw : g.w;
  float best = -std::numeric_limits<float>::infinity();
  int64_t at = -1;
  for (int64_t y = y0; y < y1; y++)
    for (int64_t x = x0; x < x1; x++) {
      const float v = plane[y * g.w + x];
      if (v > best || std::isnan(v) || at < 0) { best = v; at = y * g.w + x; }
    }
  return at;
}
}  // namespace

void maxPool2d(const PoolGeometry& g, const float* x, float* y) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < g.n * g.c; p++) {
    const float* plane = x + p * g.h * g.w;
    for (int64_t oy = 0; oy < g.oh; oy++)
      for (int64_t ox = 0; ox < g.ow; ox++) y[(p * g.oh + oy) * g.ow + ox] = plane[argmaxWindow(plane, g, oy, ox)];
  }
}

void maxPool2dBackward(const PoolGeometry& g, const float* dy, const float* x, float* dx) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < g.n * g.c; p++) {
    const float* plane = x + p * g.h * g.w;
    float* out = dx + p * g.h * g.w;
    for (int64_t i = 0; i < g.h * g.w; i++) out[i] = 0.0f;
    for (int64_t oy = 0; oy < g.oh; oy++)
      for (int64_t ox = 0; ox < g.ow; ox++) out[argmaxWindow(plane, g, oy, ox)] += dy[(p * g.oh + oy) * g.ow + ox];
  }
}

void adaptiveAvgPool2d(const PoolGeometry& g, const float* x, float* y) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < g.n * g.c; p++) {
    const float* plane = x + p * g.h * g.w;
    for (int64_t oy = 0; oy < g.oh; oy++) {
      const int64_t y0 = oy * g.h / g.oh, y1 = ((oy + 1) * g.h + g.oh - 1) / g.oh;
      for (int64_t ox = 0; ox < g.ow; ox++) {
        const int64_t x0 = ox * g.w / g.ow, x1 = ((ox + 1) * g.w + g.ow - 1) / g.ow;
        double s = 0;
        for (int64_t yy = y0; yy < y1; yy++) for (int64_t xx = x0; xx < x1; xx++) s += plane[yy * g.w + xx];
        y[(p * g.oh + oy) * g.ow + ox] = static_cast<float>(s / ((y1 - y0) * (x1 - x0)));
      }
    }
  }
}

void adaptiveAvgPool2dBackward(const PoolGeometry& g, const float* dy, float* dx) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < g.n * g.c; p++) {
    float* plane = dx + p * g.h * g.w;
    for (int64_t i = 0; i < g.h * g.w; i++) plane[i] = 0.0f;
    for (int64_t oy = 0; oy < g.oh; oy++) {
      const int64_t y0 = oy * g.h / g.oh, y1 = ((oy + 1) * g.h + g.oh - 1) / g.oh;
      for (int64_t ox = 0; ox < g.ow; ox++) {
        const int64_t x0 = ox * g.w / g.ow, x1 = ((ox + 1) * g.w + g.ow - 1) / g.ow;
        const float v = dy[(p * g.oh + oy) * g.ow + ox] / static_cast<float>((y1 - y0) * (x1 - x0));
        for (int64_t yy = y0; yy < y1; yy++) for (int64_t xx = x0; xx < x1; xx++) plane[yy * g.w + xx] += v;
      }
    }
  }
}

void logSoftmax(const float* x, float* y, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < rows; i++) {
    const float* r = x + i * cols;
    double mx = -std::numeric_limits<double>::infinity(), s = 0;
    for (int64_t j = 0; j < cols; j++) mx = r[j] > mx ? r[j] : mx;
    for (int64_t j = 0; j < cols; j++) s += std::exp(r[j] - mx);
    const double lse = mx + std::log(s);
    for (int64_t j = 0; j < cols; j++) y[i * cols + j] = static_cast<float>(r[j] - lse);
  }
}

void logSoftmaxBackward(const float* dy, const float* y, float* dx, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < rows; i++) {
    double s = 0;
    for (int64_t j = 0; j < cols; j++) s += dy[i * cols + j];
    for (int64_t j = 0; j < cols; j++) dx[i * cols + j] = static_cast<float>(dy[i * cols + j] - std::exp(static_cast<double>(y[i * cols + j])) * s);
  }
}

void addRowBias(const float* x, const float* bias, float* y, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) y[i * cols + j] = x[i * cols + j] + bias[j];
}

void mul(const float* a, const float* b, float* out, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

// g = grad + wd·p; buf = momentum·buf + (1−dampening)·g (buf = g on the first step);
// p −= lr·(nesterov ? g + momentum·buf : buf); without momentum p −= lr·g.
void sgdStep(const float* param, const float* grad, const float* bufIn, float* paramOut, float* bufOut, int64_t n,
             float lr, float momentum, float dampening, float weightDecay, bool nesterov) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; i++) {
    float g = grad[i] + weightDecay * param[i];
    if (bufOut) {
      const float m = bufIn ? momentum * bufIn[i] + (1.0f - dampening) * g : g;
      bufOut[i] = m;
      g = nesterov ? g + momentum * m : m;
    }
    paramOut[i] = param[i] - lr * g;
  }
}

}  // namespace resnext
