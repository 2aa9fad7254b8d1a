// The direct grouped 3x3 convolutions (grouped_direct.h).
// float32 (and bf16, loaded into float32 and rounded back to nearest even on the way out): in nChw16c a pixel's 16 channels are one AVX-512 vector holding 4 groups of 4 (or 2 of
// 8) whole groups, so output lane i needs input channel k of its own group: one in-lane shuffle
// (groups of 4) or permute (groups of 8) of the input vector per k, then a multiply-add with the
// weights of (kh, kw, k) for all 16 outputs. Each thread takes output rows of one block in segments
// of 14 pixels, kept in 14 accumulators; a shuffled input column serves the three kw taps it feeds.
// int8: in NHWC a pixel's 64 channels are one vector of 16 groups, each group's 4 u8 inputs one
// 32-bit lane, which is what VNNI's dot product (vpdpbusd) multiplies with 4 s8 weights and sums:
// vector j computes output channel 4i + j in lane i, with no shuffle at all; the epilogue is
// oneDNN's (float(acc) + bias, times the scale, ReLU, round to nearest even, saturate), and the
// four vectors' bytes are interleaved back into channel order.
// Measured standalone against the path oneDNN takes in the network, 2 threads, Zen 5: float32 (its
// nChw4c/nChw8c kernel plus the reorders from and back to nChw16c) 128 ch in groups of 4 at 56²,
// batch 1, 0.124 vs 0.540 ms; batch 8 1.37 vs 4.65 ms; 256 in groups of 8 at 28², 0.099 vs 0.223 ms
// and 0.97 vs 2.07 ms (groups of 16 and 32 were within 10% of oneDNN and stay with it); int8, 128
// ch in groups of 4 at 56², 0.043 vs 0.123 ms at batch 1, 0.36 vs 1.1 ms at batch 8, bit-identical.
#include "grouped_direct.h"

#include <cstring>
#include <stdexcept>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

namespace resnext {

namespace {
bool enabled = true;

#ifdef __AVX512F__
// Lane i of the result: channel k of lane i's group of CG.
template <int CG>
inline __m512 spread(__m512 v, int k) {
  if constexpr (CG == 4) {
    switch (k) {
      case 0: return _mm512_permute_ps(v, 0x00);
      case 1: return _mm512_permute_ps(v, 0x55);
      case 2: return _mm512_permute_ps(v, 0xAA);
      default: return _mm512_permute_ps(v, 0xFF);
    }
  } else {
    const __m512i groupStart = _mm512_set_epi32(8, 8, 8, 8, 8, 8, 8, 8, 0, 0, 0, 0, 0, 0, 0, 0);
    return _mm512_permutexvar_ps(_mm512_add_epi32(groupStart, _mm512_set1_epi32(k)), v);
  }
}

// 16 channels of a pixel as float32: stored as float32, or as bf16 (uint16_t, its upper half).
inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 load16(const uint16_t* p) {
  const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}
inline void store16(float* p, __m512 v) { _mm512_storeu_ps(p, v); }
#ifdef __AVX512BF16__
inline void store16(uint16_t* p, __m512 v) {  // rounded to nearest even
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v)));
}
#endif

// Output pixels [ow0, ow0 + NW) of row oh of one 16-channel block (x, y: the block's planes, of
// float32 or bf16 values; the sums are float32).
template <int CG, int NW, typename T>
inline void rowSegment(const T* x, const float* w, const float* bias, T* y, int64_t H, int64_t W, int64_t oh, int64_t ow0,
                       bool relu) {
  __m512 acc[NW];
  const __m512 b = _mm512_loadu_ps(bias);
  for (int j = 0; j < NW; j++) acc[j] = b;
  for (int kh = 0; kh < 3; kh++) {
    const int64_t ih = oh + kh - 1;
    if (ih < 0 || ih >= H) continue;
    const T* in = x + (ih * W + ow0 - 1) * 16;  // input column t is ow0 - 1 + t
#pragma GCC unroll 1
    for (int k = 0; k < CG; k++) {
      const __m512 w0 = _mm512_loadu_ps(w + ((kh * 3 + 0) * CG + k) * 16);
      const __m512 w1 = _mm512_loadu_ps(w + ((kh * 3 + 1) * CG + k) * 16);
      const __m512 w2 = _mm512_loadu_ps(w + ((kh * 3 + 2) * CG + k) * 16);
      // fully unrolled so the accumulators stay in registers; columns outside the row are padding
#pragma GCC unroll 32
      for (int t = 0; t < NW + 2; t++) {
        __m512 v;
        if (t == 0) v = ow0 > 0 ? load16(in) : _mm512_setzero_ps();
        else if (t == NW + 1) v = ow0 + NW < W ? load16(in + t * 16) : _mm512_setzero_ps();
        else v = load16(in + t * 16);
        const __m512 p = spread<CG>(v, k);
        if (t < NW) acc[t] = _mm512_fmadd_ps(p, w0, acc[t]);
        if (t >= 1 && t - 1 < NW) acc[t - 1] = _mm512_fmadd_ps(p, w1, acc[t - 1]);
        if (t >= 2) acc[t - 2] = _mm512_fmadd_ps(p, w2, acc[t - 2]);
      }
    }
  }
  const __m512 zero = _mm512_setzero_ps();
  for (int j = 0; j < NW; j++) store16(y + (oh * W + ow0 + j) * 16, relu ? _mm512_max_ps(acc[j], zero) : acc[j]);
}

template <int CG, typename T>
void run(const ConvGeometry& g, const T* x, const float* packed, const float* bias, bool relu, T* y) {
  const int64_t blocks = g.c / 16, H = g.h, W = g.w;
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t n = 0; n < g.n; n++) {
    for (int64_t cb = 0; cb < blocks; cb++) {
      for (int64_t oh = 0; oh < H; oh++) {
        const T* xb = x + (n * blocks + cb) * H * W * 16;
        T* yb = y + (n * blocks + cb) * H * W * 16;
        const float* wb = packed + cb * 9 * CG * 16;
        const float* bb = bias + cb * 16;
        int64_t ow = 0;
        for (; ow + 14 <= W; ow += 14) rowSegment<CG, 14, T>(xb, wb, bb, yb, H, W, oh, ow, relu);
        for (; ow + 7 <= W; ow += 7) rowSegment<CG, 7, T>(xb, wb, bb, yb, H, W, oh, ow, relu);
        for (; ow < W; ow++) rowSegment<CG, 1, T>(xb, wb, bb, yb, H, W, oh, ow, relu);
      }
    }
  }
}

// run<4> or run<8>, as the geometry's groups say (float32 or bf16 storage).
template <typename T>
void runGrouped(const ConvGeometry& g, const T* x, const float* packed, const float* bias, bool relu, T* y) {
  if (g.c / g.groups == 4) run<4>(g, x, packed, bias, relu, y);
  else run<8>(g, x, packed, bias, relu, y);
}
#endif

#if defined(__AVX512F__) && defined(__AVX512VNNI__)
// Output pixels [ow0, ow0 + NW) of row oh, 64 channels from chunk q (x, y: the chunk's first byte
// of the image; w, bias, scale: the chunk's).
template <int NW>
inline void int8Segment(const uint8_t* x, const int8_t* w, const float* bias, const float* scale, int8_t* y, int64_t H,
                        int64_t W, int64_t C, int64_t oh, int64_t ow0, bool relu, bool dstSigned) {
  __m512i acc[NW][4];
  for (int p = 0; p < NW; p++)
    for (int j = 0; j < 4; j++) acc[p][j] = _mm512_setzero_si512();
  for (int kh = 0; kh < 3; kh++) {
    const int64_t ih = oh + kh - 1;
    if (ih < 0 || ih >= H) continue;
    for (int kw = 0; kw < 3; kw++) {
      const int8_t* tap = w + (kh * 3 + kw) * 256;
      const __m512i w0 = _mm512_loadu_si512(tap), w1 = _mm512_loadu_si512(tap + 64), w2 = _mm512_loadu_si512(tap + 128),
                    w3 = _mm512_loadu_si512(tap + 192);
#pragma GCC unroll 16
      for (int p = 0; p < NW; p++) {
        const int64_t iw = ow0 + p + kw - 1;
        if (iw < 0 || iw >= W) continue;  // padding: zero contributes nothing
        const __m512i v = _mm512_loadu_si512(x + (ih * W + iw) * C);
        acc[p][0] = _mm512_dpbusd_epi32(acc[p][0], v, w0);
        acc[p][1] = _mm512_dpbusd_epi32(acc[p][1], v, w1);
        acc[p][2] = _mm512_dpbusd_epi32(acc[p][2], v, w2);
        acc[p][3] = _mm512_dpbusd_epi32(acc[p][3], v, w3);
      }
    }
  }
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int p = 0; p < NW; p++) {
    __m128i b[4];
    for (int j = 0; j < 4; j++) {
      __m512 f = _mm512_mul_ps(_mm512_add_ps(_mm512_cvtepi32_ps(acc[p][j]), _mm512_loadu_ps(bias + j * 16)),
                               _mm512_loadu_ps(scale + j * 16));
      if (relu) f = _mm512_max_ps(f, zero);
      const __m512i r = _mm512_cvtps_epi32(f);  // the current rounding mode: to nearest even
      b[j] = dstSigned ? _mm512_cvtsepi32_epi8(r) : _mm512_cvtusepi32_epi8(_mm512_max_epi32(r, _mm512_setzero_si512()));
    }
    // byte 4i + j of the pixel's 64 channels is lane i of vector j
    const __m128i lo01 = _mm_unpacklo_epi8(b[0], b[1]), hi01 = _mm_unpackhi_epi8(b[0], b[1]);
    const __m128i lo23 = _mm_unpacklo_epi8(b[2], b[3]), hi23 = _mm_unpackhi_epi8(b[2], b[3]);
    __m128i* out = reinterpret_cast<__m128i*>(y + (oh * W + ow0 + p) * C);
    _mm_storeu_si128(out, _mm_unpacklo_epi16(lo01, lo23));
    _mm_storeu_si128(out + 1, _mm_unpackhi_epi16(lo01, lo23));
    _mm_storeu_si128(out + 2, _mm_unpacklo_epi16(hi01, hi23));
    _mm_storeu_si128(out + 3, _mm_unpackhi_epi16(hi01, hi23));
  }
}
#endif
}  // namespace

std::vector<std::string> directGroupedKernelsBuilt() {
  std::vector<std::string> built;
#ifdef __AVX512F__
  built.push_back("float32");
#endif
#if defined(__AVX512F__) && defined(__AVX512BF16__)
  built.push_back("bf16");
#endif
#if defined(__AVX512F__) && defined(__AVX512VNNI__)
  built.push_back("int8");
#endif
  return built;
}

bool directGroupedConvApplies(const ConvGeometry& g, bool residual) {
#ifdef __AVX512F__
  const int64_t perGroup = g.groups > 0 ? g.c / g.groups : 0;
  return enabled && !residual && g.groups > 1 && g.c == g.o && (perGroup == 4 || perGroup == 8) && g.c % 16 == 0 &&
         g.kh == 3 && g.kw == 3 && g.strideH == 1 && g.strideW == 1 && g.padH == 1 && g.padW == 1 && g.dilH == 1 &&
         g.dilW == 1 && g.oh == g.h && g.ow == g.w;
#else
  (void)g;
  (void)residual;
  return false;
#endif
}

void setDirectGroupedConv(bool on) { enabled = on; }

int64_t directGroupedWeightElements(const ConvGeometry& g) { return g.o * (g.c / g.groups) * 9; }

// x rounded to the nearest bf16 (ties to even), as a float32.
static float bf16Rounded(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if ((bits & 0x7f800000u) != 0x7f800000u) bits = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;  // not inf/NaN
  std::memcpy(&x, &bits, 4);
  return x;
}

void directGroupedPackWeights(const ConvGeometry& g, const float* w, float* out, bool bf16) {
  const int64_t cg = g.c / g.groups;  // inputs per group = outputs per group
  for (int64_t block = 0; block < g.o / 16; block++)
    for (int64_t tap = 0; tap < 9; tap++)
      for (int64_t k = 0; k < cg; k++)
        for (int64_t lane = 0; lane < 16; lane++) {
          const int64_t oc = block * 16 + lane;  // GOIHW flattened: [oc][k][kh][kw]
          const float v = w[(oc * cg + k) * 9 + tap];
          out[((block * 9 + tap) * cg + k) * 16 + lane] = bf16 ? bf16Rounded(v) : v;
        }
}

void directGroupedConv(const ConvGeometry& g, const float* x, const float* packed, const float* b, bool relu, float* y) {
#ifdef __AVX512F__
  runGrouped(g, x, packed, b, relu, y);
#else
  (void)g, (void)x, (void)packed, (void)b, (void)relu, (void)y;
  throw std::logic_error("direct grouped convolution: built without AVX-512");
#endif
}

bool directGroupedBf16Applies(const ConvGeometry& g, bool residual) {
#ifdef __AVX512BF16__
  return directGroupedConvApplies(g, residual);
#else
  (void)g, (void)residual;
  return false;
#endif
}

void directGroupedBf16Conv(const ConvGeometry& g, const uint16_t* x, const float* packed, const float* b, bool relu, uint16_t* y) {
#if defined(__AVX512F__) && defined(__AVX512BF16__)
  runGrouped(g, x, packed, b, relu, y);
#else
  (void)g, (void)x, (void)packed, (void)b, (void)relu, (void)y;
  throw std::logic_error("direct grouped bf16 convolution: built without AVX-512 BF16");
#endif
}

bool directGroupedInt8Applies(const ConvGeometry& g, bool residual, bool srcSigned) {
#if defined(__AVX512F__) && defined(__AVX512VNNI__)
  return enabled && !residual && !srcSigned && g.groups > 1 && g.c == g.o && g.c / g.groups == 4 && g.c % 64 == 0 &&
         g.kh == 3 && g.kw == 3 && g.strideH == 1 && g.strideW == 1 && g.padH == 1 && g.padW == 1 && g.dilH == 1 &&
         g.dilW == 1 && g.oh == g.h && g.ow == g.w;
#else
  (void)g, (void)residual, (void)srcSigned;
  return false;
#endif
}

int64_t directGroupedInt8WeightBytes(const ConvGeometry& g) { return g.o * 4 * 9; }

int64_t directGroupedInt8Channel(int64_t lane) {
  const int64_t chunk = lane / 64, vector = lane % 64 / 16, i = lane % 16;
  return chunk * 64 + 4 * i + vector;
}

void directGroupedInt8PackWeights(const ConvGeometry& g, const float* w, int8_t* out) {
  for (int64_t chunk = 0; chunk < g.o / 64; chunk++)
    for (int64_t tap = 0; tap < 9; tap++)
      for (int64_t lane = 0; lane < 64; lane++)
        for (int64_t k = 0; k < 4; k++) {
          const int64_t oc = directGroupedInt8Channel(chunk * 64 + lane);  // GOIHW flattened: [oc][k][kh][kw]
          out[((chunk * 9 + tap) * 64 + lane) * 4 + k] = static_cast<int8_t>(w[(oc * 4 + k) * 9 + tap]);
        }
}

void directGroupedInt8Conv(const ConvGeometry& g, const uint8_t* x, const int8_t* packed, const float* biasAcc,
                           const float* scale, bool relu, bool dstSigned, int8_t* y) {
#if defined(__AVX512F__) && defined(__AVX512VNNI__)
  const int64_t chunks = g.c / 64, H = g.h, W = g.w, C = g.c;
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t n = 0; n < g.n; n++) {
    for (int64_t oh = 0; oh < H; oh++) {
      for (int64_t q = 0; q < chunks; q++) {
        const uint8_t* xq = x + n * H * W * C + 64 * q;
        int8_t* yq = y + n * H * W * C + 64 * q;
        const int8_t* wq = packed + q * 9 * 256;
        int64_t ow = 0;
        for (; ow + 6 <= W; ow += 6) int8Segment<6>(xq, wq, biasAcc + 64 * q, scale + 64 * q, yq, H, W, C, oh, ow, relu, dstSigned);
        for (; ow < W; ow++) int8Segment<1>(xq, wq, biasAcc + 64 * q, scale + 64 * q, yq, H, W, C, oh, ow, relu, dstSigned);
      }
    }
  }
#else
  (void)g, (void)x, (void)packed, (void)biasAcc, (void)scale, (void)relu, (void)dstSigned, (void)y;
  throw std::logic_error("direct grouped int8 convolution: built without AVX-512 VNNI");
#endif
}

}  // namespace resnext
