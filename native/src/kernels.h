// The native kernels' C++ interface: oneDNN primitives over caller-owned float32 buffers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include <oneapi/dnnl/dnnl.hpp>

namespace resnext {

// Resolved convolution geometry, in the order the TypeScript side packs it (ConvGeometry).
struct ConvGeometry {
  int64_t n, c, h, w, o, kh, kw, oh, ow, strideH, strideW, padH, padW, dilH, dilW, groups;
};

// The engine and stream every primitive runs on (one CPU engine for the process).
dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

// A convolution's plain (NCHW, (G)OIHW) memory descriptors and window arguments, as oneDNN wants them.
struct ConvDescs {
  dnnl::memory::desc src, weights, bias, dst;
  dnnl::memory::dims strides, dilates, padL, padR;
};
ConvDescs describeConv(const ConvGeometry& g);
// A cache key: `kind`, every geometry value, and whether there is a bias.
std::string convKey(const ConvGeometry& g, char kind, bool bias);

// y = conv(x, w) + b (b may be null). Plain NCHW / (G)OIHW layouts.
void conv2dForward(const ConvGeometry& g, const float* x, const float* w, const float* b, float* y);
// y = relu?(conv(x, w) + b + residual?) for inference, plain layouts: ReLU as a oneDNN post-op when
// there is no residual, else the residual add and ReLU as a loop of ours after the conv.
void conv2dFused(const ConvGeometry& g, const float* x, const float* w, const float* b, const float* residual, bool relu, float* y);
// A oneDNN memory object over a caller-owned buffer (no copy).
dnnl::memory wrapMemory(const dnnl::memory::desc& md, const float* p);
// Grouped convolutions for training through oneDNN's NHWC kernels (conv_nhwc.cc), reordering
// at the call's edges; false when oneDNN has no fast NHWC kernel for the shape (use the plain path).
bool conv2dForwardNhwc(const ConvGeometry& g, const float* x, const float* w, const float* b, float* y);
bool conv2dBackwardDataNhwc(const ConvGeometry& g, const float* dy, const float* w, float* dx);
bool conv2dBackwardWeightNhwc(const ConvGeometry& g, const float* dy, const float* x, float* dw);

// Blocked-layout inference (layout.cc): layout 0 is plain NCHW, n > 0 a layout oneDNN chose
// (numbered by layout_policy.cc, which also decides which layouts are used).
// Physical sizes are in float32 elements (a bf16 or int8 buffer is a Float32Array of ceil(bytes / 4)).
// `plan` numbers a fused convolution's plan so later calls name it instead of its geometry and precision.
struct BlockedInfo { int dstLayout; int64_t dstElements; int64_t weightElements; int plan = -1; };
// The arithmetic of a fused inference convolution: float32; bf16 (bf16 input, weights and output,
// float32 accumulation, bias, residual and ReLU); or int8 (u8/s8 activations with one scale each,
// s8 weights with a scale per output channel, s32 accumulation, requantised output, as the
// reference backend defines it in src/backend/reference/low-precision.ts).
struct Precision {
  enum class Kind { f32, bf16, int8 } kind = Kind::f32;
  int id = 0;  // int8: the number the caller gave this set of scales (part of the plan's key)
  float srcScale = 1, dstScale = 1, residualScale = 1;
  bool srcSigned = false, dstSigned = false, residualSigned = false;
  std::vector<float> weightScales;  // int8: one per output channel
  std::string key() const;
};
BlockedInfo blockedPlan(const ConvGeometry& g, bool residual, bool relu, const Precision& pr);
// What a numbered plan expects of its operands (the addon checks every call against it).
struct BlockedOperands { ConvGeometry g; bool residual; int64_t weightElements, dstElements; };
BlockedOperands blockedOperands(int plan);  // an error for an unknown number
void blockedPrepareWeights(int plan, const float* w, float* out);
void conv2dFusedBlocked(int plan, const float* x, int xLayout, const float* w, const float* b, const float* residual,
                        int residualLayout, float* y);
std::vector<int64_t> layoutDims(int layout);  // [dims..., physical elements] (layout_policy.cc)
void layoutToPlain(int layout, const float* src, float* dst);
// y[n·c] = the mean over h·w of each channel of a stored activation in `layout` (inference's global
// average pooling, read in place; the same values as pooling its NCHW reorder).
void globalAvgPoolStored(int layout, int64_t n, int64_t c, int64_t h, int64_t w, const void* x, float* y);
// dx = gradient of conv2d with respect to x.
void conv2dBackwardData(const ConvGeometry& g, const float* dy, const float* w, float* dx);
// dw = gradient of conv2d with respect to w.
void conv2dBackwardWeight(const ConvGeometry& g, const float* dy, const float* x, float* dw);

}  // namespace resnext

namespace resnext {
void relu(const float* x, float* y, int64_t n);
void reluBackward(const float* dy, const float* y, float* dx, int64_t n);
void addScaled(const float* a, const float* b, float* out, int64_t n, float alpha, float beta);
void channelSum(const float* x, float* out, int64_t n, int64_t c, int64_t hw);
void batchNormStats(const float* x, float* mean, float* var, int64_t n, int64_t c, int64_t hw);
void batchNormForward(const float* x, const float* mean, const float* var, const float* gamma, const float* beta, float eps, float* y, int64_t n, int64_t c, int64_t hw);
void batchNormBackward(const float* dy, const float* x, const float* mean, const float* var, const float* gamma, float eps, bool batchStats,
                       float* dx, float* dgamma, float* dbeta, int64_t n, int64_t c, int64_t hw);
}  // namespace resnext

namespace resnext {
// Resolved pooling geometry, in the order the TypeScript side packs it (PoolGeometry).
struct PoolGeometry { int64_t n, c, h, w, oh, ow, kh, kw, strideH, strideW, padH, padW; };
void maxPool2d(const PoolGeometry& g, const float* x, float* y);
void maxPool2dBackward(const PoolGeometry& g, const float* dy, const float* x, float* dx);
void adaptiveAvgPool2d(const PoolGeometry& g, const float* x, float* y);
void adaptiveAvgPool2dBackward(const PoolGeometry& g, const float* dy, float* dx);
void logSoftmax(const float* x, float* y, int64_t rows, int64_t cols);
void logSoftmaxBackward(const float* dy, const float* y, float* dx, int64_t rows, int64_t cols);
void addRowBias(const float* x, const float* bias, float* y, int64_t rows, int64_t cols);
void mul(const float* a, const float* b, float* out, int64_t n);
// max pooling of a blocked (layout > 0) input in its layout, for inference (layout.cc)
BlockedInfo maxPoolBlockedPlan(const PoolGeometry& g, int xLayout);
void maxPoolBlocked(const PoolGeometry& g, const float* x, int xLayout, float* y);
void sgdStep(const float* param, const float* grad, const float* bufIn, float* paramOut, float* bufOut, int64_t n,
             float lr, float momentum, float dampening, float weightDecay, bool nesterov);
}  // namespace resnext
