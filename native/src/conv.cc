// Grouped convolution forward, backward-data and backward-weights through oneDNN, on plain
// NCHW activations and (G)OIHW weights owned by JavaScript, or through the NHWC kernels where the
// layout policy says so (conv_nhwc.cc). Primitives are planned once per geometry (plans.h).
#include <string>
#include <unordered_map>

#include "kernels.h"
#include "layout_policy.h"
#include "plans.h"

namespace resnext {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

engine& cpuEngine() {
  static engine eng(engine::kind::cpu, 0);
  return eng;
}

stream& cpuStream() {
  static stream s(cpuEngine());
  return s;
}

// oneDNN counts dilation from 0 and needs the right padding that makes the output size exact
// (it is negative when a strided window skips the last input rows, as PyTorch's floor does).
ConvDescs describeConv(const ConvGeometry& g) {
  ConvDescs d;
  d.src = memory::desc({g.n, g.c, g.h, g.w}, dt::f32, tag::nchw);
  d.dst = memory::desc({g.n, g.o, g.oh, g.ow}, dt::f32, tag::nchw);
  d.weights = g.groups == 1
      ? memory::desc({g.o, g.c, g.kh, g.kw}, dt::f32, tag::oihw)
      : memory::desc({g.groups, g.o / g.groups, g.c / g.groups, g.kh, g.kw}, dt::f32, tag::goihw);
  d.bias = memory::desc({g.o}, dt::f32, tag::x);
  d.strides = {g.strideH, g.strideW};
  d.dilates = {g.dilH - 1, g.dilW - 1};
  d.padL = {g.padH, g.padW};
  d.padR = {(g.oh - 1) * g.strideH + (g.kh - 1) * g.dilH + 1 - g.h - g.padH,
            (g.ow - 1) * g.strideW + (g.kw - 1) * g.dilW + 1 - g.w - g.padW};
  return d;
}

std::string convKey(const ConvGeometry& g, char kind, bool bias) {
  std::string k(1, kind);
  for (int64_t v : {g.n, g.c, g.h, g.w, g.o, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW, g.padH, g.padW, g.dilH, g.dilW, g.groups})
    k += ":" + std::to_string(v);
  return k + (bias ? "b" : "");
}

namespace {

convolution_forward::primitive_desc forwardPd(const ConvGeometry& g, bool withBias, prop_kind prop) {
  ConvDescs d = describeConv(g);
  auto desc = withBias
      ? convolution_forward::desc(prop, algorithm::convolution_direct, d.src, d.weights, d.bias, d.dst, d.strides, d.dilates, d.padL, d.padR)
      : convolution_forward::desc(prop, algorithm::convolution_direct, d.src, d.weights, d.dst, d.strides, d.dilates, d.padL, d.padR);
  return convolution_forward::primitive_desc(desc, cpuEngine());
}

// Inference convolution with bias, and ReLU as a post-op when there is no residual. On plain
// NCHW, oneDNN's gemm convolution runs a sum post-op (the residual) at a fraction of its speed,
// so the residual add (and the ReLU after it) is a loop of ours instead.

convolution_forward makeFused(const ConvGeometry& g, bool relu) {
  ConvDescs d = describeConv(g);
  convolution_forward::desc desc(prop_kind::forward_inference, algorithm::convolution_direct, d.src, d.weights, d.bias, d.dst, d.strides, d.dilates, d.padL, d.padR);
  post_ops ops;
  if (relu) ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
  primitive_attr attr;
  attr.set_post_ops(ops);
  return convolution_forward(convolution_forward::primitive_desc(desc, attr, cpuEngine()));
}

convolution_forward makeForward(const ConvGeometry& g) { return convolution_forward(forwardPd(g, false, prop_kind::forward_training)); }
convolution_forward makeForwardBias(const ConvGeometry& g) { return convolution_forward(forwardPd(g, true, prop_kind::forward_training)); }

convolution_backward_data makeBackwardData(const ConvGeometry& g) {
  ConvDescs d = describeConv(g);
  auto hint = forwardPd(g, false, prop_kind::forward_training);
  convolution_backward_data::desc desc(algorithm::convolution_direct, d.src, d.weights, d.dst, d.strides, d.dilates, d.padL, d.padR);
  return convolution_backward_data(convolution_backward_data::primitive_desc(desc, cpuEngine(), hint));
}

convolution_backward_weights makeBackwardWeights(const ConvGeometry& g) {
  ConvDescs d = describeConv(g);
  auto hint = forwardPd(g, false, prop_kind::forward_training);
  convolution_backward_weights::desc desc(algorithm::convolution_direct, d.src, d.weights, d.dst, d.strides, d.dilates, d.padL, d.padR);
  return convolution_backward_weights(convolution_backward_weights::primitive_desc(desc, cpuEngine(), hint));
}

}  // namespace

memory wrapMemory(const memory::desc& md, const float* p) { return memory(md, cpuEngine(), const_cast<float*>(p)); }

void conv2dForward(const ConvGeometry& g, const float* x, const float* w, const float* b, float* y) {
  if (trainsInNhwc(g) && conv2dForwardNhwc(g, x, w, b, y)) return;
  ConvDescs d = describeConv(g);
  auto& prim = cachedPlan<convolution_forward>(convKey(g, 'f', b != nullptr), [&] { return b ? makeForwardBias(g) : makeForward(g); });
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, wrapMemory(d.src, x)}, {DNNL_ARG_WEIGHTS, wrapMemory(d.weights, w)}, {DNNL_ARG_DST, wrapMemory(d.dst, y)}};
  if (b) args.insert({DNNL_ARG_BIAS, wrapMemory(d.bias, b)});
  prim.execute(cpuStream(), args);
  cpuStream().wait();
}

void conv2dFused(const ConvGeometry& g, const float* x, const float* w, const float* b, const float* residual, bool relu, float* y) {
  ConvDescs d = describeConv(g);
  const bool reluInConv = relu && !residual;
  auto& prim = cachedPlan<convolution_forward>(convKey(g, reluInConv ? 'r' : 'i', true), [&] { return makeFused(g, reluInConv); });
  prim.execute(cpuStream(), {{DNNL_ARG_SRC, wrapMemory(d.src, x)}, {DNNL_ARG_WEIGHTS, wrapMemory(d.weights, w)}, {DNNL_ARG_BIAS, wrapMemory(d.bias, b)}, {DNNL_ARG_DST, wrapMemory(d.dst, y)}});
  cpuStream().wait();
  if (!residual) return;
  const int64_t n = g.n * g.o * g.oh * g.ow;
  if (relu) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; i++) { const float v = y[i] + residual[i]; y[i] = v <= 0.0f ? 0.0f : v; }
  } else {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; i++) y[i] += residual[i];
  }
}

void conv2dBackwardData(const ConvGeometry& g, const float* dy, const float* w, float* dx) {
  if (trainsInNhwc(g) && conv2dBackwardDataNhwc(g, dy, w, dx)) return;
  ConvDescs d = describeConv(g);
  auto& prim = cachedPlan<convolution_backward_data>(convKey(g, 'd', false), [&] { return makeBackwardData(g); });
  prim.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, wrapMemory(d.dst, dy)}, {DNNL_ARG_WEIGHTS, wrapMemory(d.weights, w)}, {DNNL_ARG_DIFF_SRC, wrapMemory(d.src, dx)}});
  cpuStream().wait();
}

void conv2dBackwardWeight(const ConvGeometry& g, const float* dy, const float* x, float* dw) {
  if (trainsInNhwc(g) && conv2dBackwardWeightNhwc(g, dy, x, dw)) return;
  ConvDescs d = describeConv(g);
  auto& prim = cachedPlan<convolution_backward_weights>(convKey(g, 'w', false), [&] { return makeBackwardWeights(g); });
  prim.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, wrapMemory(d.dst, dy)}, {DNNL_ARG_SRC, wrapMemory(d.src, x)}, {DNNL_ARG_DIFF_WEIGHTS, wrapMemory(d.weights, dw)}});
  cpuStream().wait();
}

}  // namespace resnext
