// A dropped experiment, kept so its README figures can be rerun: our own float32 1x1 convolution in
// nChw16c (4 blocks of 16 output channels × 6 pixels of accumulators, one broadcast input value per
// input channel and pixel) against oneDNN 2.6's jit_1x1 on ResNeXt-50's 1x1 shapes with their
// epilogues (bias, residual, ReLU), each timed on a rotating set of weight copies (128 MiB) so the
// weights arrive cold as in the network. Prints the median of 40 calls each and the largest
// difference between the two outputs. Not part of the library.
// Build: g++ -O3 -march=native -fopenmp -std=c++17 bench/pointwise-prototype.cc -o /tmp/pw -ldnnl
// Run:   OMP_NUM_THREADS=2 /tmp/pw
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <dnnl.hpp>
#include <unordered_map>
#include <vector>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

struct Shape {
  int64_t n, c, h, w, o, stride;
  bool residual, relu;
  int64_t oh() const { return (h - 1) / stride + 1; }
  int64_t ow() const { return (w - 1) / stride + 1; }
};

// OI weights into [o / 64][c][64].
void pack(const Shape& g, const float* w, float* out) {
  for (int64_t t = 0; t < g.o / 64; t++)
    for (int64_t i = 0; i < g.c; i++)
      for (int64_t j = 0; j < 64; j++) out[(t * g.c + i) * 64 + j] = w[(t * 64 + j) * g.c + i];
}

// P output pixels × 64 output channels: x[p], y[p], r[p] point at each pixel's first block.
template <int P>
void tile(const float* const* x, int64_t xBlock, const float* w, int64_t c, float* const* y, int64_t yBlock,
          const float* bias, const float* const* r, bool relu) {
  __m512 acc[P][4];
  for (int j = 0; j < 4; j++)
    for (int p = 0; p < P; p++) acc[p][j] = _mm512_loadu_ps(bias + j * 16);
  for (int64_t cb = 0; cb < c / 16; cb++) {
    const float* wc = w + cb * 16 * 64;
#pragma GCC unroll 4
    for (int k = 0; k < 16; k++) {
      const __m512 w0 = _mm512_loadu_ps(wc + k * 64), w1 = _mm512_loadu_ps(wc + k * 64 + 16),
                   w2 = _mm512_loadu_ps(wc + k * 64 + 32), w3 = _mm512_loadu_ps(wc + k * 64 + 48);
#pragma GCC unroll 8
      for (int p = 0; p < P; p++) {
        const __m512 v = _mm512_set1_ps(x[p][cb * xBlock + k]);
        acc[p][0] = _mm512_fmadd_ps(v, w0, acc[p][0]);
        acc[p][1] = _mm512_fmadd_ps(v, w1, acc[p][1]);
        acc[p][2] = _mm512_fmadd_ps(v, w2, acc[p][2]);
        acc[p][3] = _mm512_fmadd_ps(v, w3, acc[p][3]);
      }
    }
  }
  for (int j = 0; j < 4; j++)
    for (int p = 0; p < P; p++) {
      __m512 a = acc[p][j];
      if (r) a = _mm512_add_ps(a, _mm512_loadu_ps(r[p] + j * yBlock));
      if (relu) a = _mm512_max_ps(a, _mm512_setzero_ps());
      _mm512_storeu_ps(y[p] + j * yBlock, a);
    }
}

// y = relu?(conv1x1(x) + bias + r?), x, r and y in nChw16c; threads split output-channel tiles and pixels.
void pointwise(const Shape& g, const float* x, const float* packed, const float* bias, const float* r, float* y) {
  constexpr int P = 6;
  const int64_t OH = g.oh(), OW = g.ow(), pixels = g.n * OH * OW, tiles = g.o / 64;
  const int64_t xBlock = g.h * g.w * 16, yBlock = OH * OW * 16, pixelTiles = (pixels + P - 1) / P;
  const int64_t splits = std::max<int64_t>(1, (2 * omp_get_max_threads() + tiles - 1) / tiles);
#pragma omp parallel for schedule(static) collapse(2)
  for (int64_t t = 0; t < tiles; t++) {
    for (int64_t s = 0; s < splits; s++) {
      const int64_t m1 = std::min(pixels, pixelTiles * (s + 1) / splits * P);
      for (int64_t m = pixelTiles * s / splits * P; m < m1; m += P) {
        const int np = static_cast<int>(std::min<int64_t>(P, m1 - m));
        const float* xp[P];
        const float* rp[P];
        float* yp[P];
        for (int p = 0; p < P; p++) {
          const int64_t at = m + std::min(p, np - 1), n = at / (OH * OW), q = at % (OH * OW);
          xp[p] = x + n * (g.c / 16) * xBlock + ((q / OW) * g.stride * g.w + (q % OW) * g.stride) * 16;
          const int64_t out = n * (g.o / 16) * yBlock + t * 4 * yBlock + q * 16;
          yp[p] = y + out;
          rp[p] = r ? r + out : nullptr;
        }
        const float* wt = packed + t * g.c * 64;
        const float* const* res = r ? rp : nullptr;
        switch (np) {
          case 6: tile<6>(xp, xBlock, wt, g.c, yp, yBlock, bias + t * 64, res, g.relu); break;
          case 5: tile<5>(xp, xBlock, wt, g.c, yp, yBlock, bias + t * 64, res, g.relu); break;
          case 4: tile<4>(xp, xBlock, wt, g.c, yp, yBlock, bias + t * 64, res, g.relu); break;
          case 3: tile<3>(xp, xBlock, wt, g.c, yp, yBlock, bias + t * 64, res, g.relu); break;
          case 2: tile<2>(xp, xBlock, wt, g.c, yp, yBlock, bias + t * 64, res, g.relu); break;
          default: tile<1>(xp, xBlock, wt, g.c, yp, yBlock, bias + t * 64, res, g.relu); break;
        }
      }
    }
  }
}

double milliseconds() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main() {
  engine eng(engine::kind::cpu, 0);
  stream st(eng);
  const std::vector<Shape> shapes = {
      {1, 512, 14, 14, 1024, 1, true, true}, {1, 1024, 14, 14, 512, 1, false, true},
      {1, 256, 28, 28, 512, 1, true, true},  {1, 1024, 7, 7, 2048, 1, true, true},
      {1, 128, 56, 56, 256, 1, true, true},  {1, 512, 28, 28, 256, 1, false, true},
      {1, 2048, 7, 7, 1024, 1, false, true}, {1, 256, 56, 56, 128, 1, false, true},
      {1, 512, 28, 28, 1024, 2, false, false}, {1, 1024, 14, 14, 2048, 2, false, false},
      {8, 512, 14, 14, 1024, 1, true, true}, {8, 128, 56, 56, 256, 1, true, true}};
  for (const Shape& g : shapes) {
    const memory::dims xDims{g.n, g.c, g.h, g.w}, yDims{g.n, g.o, g.oh(), g.ow()};
    std::vector<float> x(g.n * g.c * g.h * g.w), r(g.n * g.o * g.oh() * g.ow()), w(g.o * g.c), b(g.o);
    for (size_t i = 0; i < x.size(); i++) x[i] = std::sin(i * 0.37f);
    for (size_t i = 0; i < r.size(); i++) r[i] = std::cos(i * 0.11f);
    for (size_t i = 0; i < w.size(); i++) w[i] = 0.05f * std::sin(i * 0.013f);
    for (size_t i = 0; i < b.size(); i++) b[i] = 0.01f * (i % 7);
    const memory::desc src(xDims, dt::f32, tag::nChw16c), dst(yDims, dt::f32, tag::nChw16c), bd({g.o}, dt::f32, tag::x);
    post_ops ops;
    if (g.residual) ops.append_binary(algorithm::binary_add, dst);
    if (g.relu) ops.append_eltwise(1.f, algorithm::eltwise_relu, 0, 0);
    primitive_attr attr;
    attr.set_post_ops(ops);
    const convolution_forward::primitive_desc pd(
        {prop_kind::forward_inference, algorithm::convolution_direct, src,
         memory::desc({g.o, g.c, 1, 1}, dt::f32, tag::any), bd, dst, {g.stride, g.stride}, {0, 0}, {0, 0}},
        attr, eng);
    const convolution_forward conv(pd);
    auto reordered = [&](const memory::desc& from, float* data, const memory::desc& to) {
      std::vector<float> out(to.get_size() / sizeof(float));
      memory a(from, eng, data), o(to, eng, out.data());
      reorder(a, o).execute(st, a, o);
      st.wait();
      return out;
    };
    std::vector<float> xb = reordered({xDims, dt::f32, tag::nchw}, x.data(), src);
    std::vector<float> rb = reordered({yDims, dt::f32, tag::nchw}, r.data(), dst);
    const int copies = static_cast<int>(std::max<int64_t>(2, (128ll << 20) / (w.size() * 4)));
    std::vector<std::vector<float>> theirs(copies), ours(copies);
    for (int k = 0; k < copies; k++) {
      theirs[k] = reordered({{g.o, g.c, 1, 1}, dt::f32, tag::oihw}, w.data(), pd.weights_desc());
      ours[k].resize(w.size());
      pack(g, w.data(), ours[k].data());
    }
    std::vector<float> yTheirs(r.size()), yOurs(r.size());
    memory ms(src, eng, xb.data()), mb(bd, eng, b.data()), md(dst, eng, yTheirs.data()), mr(dst, eng, rb.data());
    memory mw(pd.weights_desc(), eng, theirs[0].data());
    auto runTheirs = [&](int k) {
      mw.set_data_handle(theirs[k].data());
      std::unordered_map<int, memory> args{
          {DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mb}, {DNNL_ARG_DST, md}};
      if (g.residual) args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, mr);
      conv.execute(st, args);
      st.wait();
    };
    auto runOurs = [&](int k) {
      pointwise(g, xb.data(), ours[k].data(), b.data(), g.residual ? rb.data() : nullptr, yOurs.data());
    };
    runTheirs(0);
    runOurs(0);
    double diff = 0;
    for (size_t i = 0; i < r.size(); i++) diff = std::max(diff, static_cast<double>(std::fabs(yTheirs[i] - yOurs[i])));
    std::vector<double> tTheirs, tOurs;
    for (int it = 0; it < 40; it++) {
      const double t0 = milliseconds();
      runTheirs(it % copies);
      const double t1 = milliseconds();
      runOurs(it % copies);
      tTheirs.push_back(t1 - t0);
      tOurs.push_back(milliseconds() - t1);
    }
    const double a = median(tTheirs), o = median(tOurs);
    std::printf("batch %ld, %4ld->%4ld 1x1 stride %ld at %ld², %s: oneDNN %.3f ms, ours %.3f ms, oneDNN/ours %.2f, max diff %.1g\n",
                g.n, g.c, g.o, g.stride, g.h, g.residual ? "+residual" : "no residual", a, o, a / o, diff);
  }
}
