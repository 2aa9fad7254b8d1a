// Grouped convolutions for training through oneDNN's NHWC kernels: on plain NCHW oneDNN 2.6 runs
// a grouped conv (ResNeXt's 32 groups of 4) through a slow gemm path, while its NHWC kernels are
// several times faster even after reordering the operands at each call's edges. Used only where
// oneDNN reports a real (non-gemm, non-reference) NHWC kernel for the shape.
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels.h"

namespace resnext {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

bool fastKernel(const char* impl) {
  const std::string s = impl;
  return s.find("gemm") == std::string::npos && s.find("ref") == std::string::npos;
}

namespace {

// One shape's primitives (absent when oneDNN has no fast NHWC kernel for that direction).
struct Plan {
  ConvDescs geo;  // the caller's plain layouts
  bool forwardFast = false, dataFast = false, weightsFast = false;
  convolution_forward::primitive_desc fwd, fwdBias;
  convolution_backward_data::primitive_desc bwdData;
  convolution_backward_weights::primitive_desc bwdWeights;
  primitive fwdPrim, fwdBiasPrim, bwdDataPrim, bwdWeightsPrim;
};

std::mutex mu;
std::unordered_map<std::string, Plan> plans;
std::vector<float> bufA, bufB, bufW;  // reordered operands (only the JavaScript thread calls in)

Plan& planFor(const ConvGeometry& g) {
  const std::string k = convKey(g, 'n', false);
  auto it = plans.find(k);
  if (it != plans.end()) return it->second;
  Plan p;
  p.geo = describeConv(g);
  const ConvDescs& q = p.geo;
  try {
    const memory::desc src(q.src.dims(), dt::f32, tag::nhwc), dst(q.dst.dims(), dt::f32, tag::nhwc), wei(q.weights.dims(), dt::f32, tag::any), bias = q.bias;
    p.fwd = convolution_forward::primitive_desc(convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src, wei, dst, q.strides, q.dilates, q.padL, q.padR), cpuEngine());
    p.fwdBias = convolution_forward::primitive_desc(convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src, wei, bias, dst, q.strides, q.dilates, q.padL, q.padR), cpuEngine());
    p.bwdData = convolution_backward_data::primitive_desc(convolution_backward_data::desc(algorithm::convolution_direct, src, wei, dst, q.strides, q.dilates, q.padL, q.padR), cpuEngine(), p.fwd);
    p.bwdWeights = convolution_backward_weights::primitive_desc(convolution_backward_weights::desc(algorithm::convolution_direct, src, wei, dst, q.strides, q.dilates, q.padL, q.padR), cpuEngine(), p.fwd);
    p.forwardFast = fastKernel(p.fwd.impl_info_str()) && fastKernel(p.fwdBias.impl_info_str());
    p.dataFast = fastKernel(p.bwdData.impl_info_str());
    p.weightsFast = fastKernel(p.bwdWeights.impl_info_str());
    if (p.forwardFast) { p.fwdPrim = convolution_forward(p.fwd); p.fwdBiasPrim = convolution_forward(p.fwdBias); }
    if (p.dataFast) p.bwdDataPrim = convolution_backward_data(p.bwdData);
    if (p.weightsFast) p.bwdWeightsPrim = convolution_backward_weights(p.bwdWeights);
  } catch (const dnnl::error&) {
    p.forwardFast = p.dataFast = p.weightsFast = false;  // no NHWC kernel at all: the plain path runs it
  }
  return plans.emplace(k, std::move(p)).first->second;
}

}  // namespace

bool conv2dForwardNhwc(const ConvGeometry& g, const float* x, const float* w, const float* b, float* y) {
  std::lock_guard<std::mutex> lock(mu);
  Plan& p = planFor(g);
  if (!p.forwardFast) return false;
  const auto& pd = b ? p.fwdBias : p.fwd;
  const float* xs = inLayout(p.geo.src, x, pd.src_desc(), bufA);
  const float* ws = inLayout(p.geo.weights, w, pd.weights_desc(), bufW);
  bufB.resize(pd.dst_desc().get_size() / sizeof(float));
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, wrapMemory(pd.src_desc(), xs)}, {DNNL_ARG_WEIGHTS, wrapMemory(pd.weights_desc(), ws)}, {DNNL_ARG_DST, wrapMemory(pd.dst_desc(), bufB.data())}};
  if (b) args.insert({DNNL_ARG_BIAS, wrapMemory(pd.bias_desc(), b)});
  (b ? p.fwdBiasPrim : p.fwdPrim).execute(cpuStream(), args);
  cpuStream().wait();
  reorderInto(pd.dst_desc(), bufB.data(), p.geo.dst, y);
  return true;
}

bool conv2dBackwardDataNhwc(const ConvGeometry& g, const float* dy, const float* w, float* dx) {
  std::lock_guard<std::mutex> lock(mu);
  Plan& p = planFor(g);
  if (!p.dataFast) return false;
  const auto& pd = p.bwdData;
  const float* dys = inLayout(p.geo.dst, dy, pd.diff_dst_desc(), bufA);
  const float* ws = inLayout(p.geo.weights, w, pd.weights_desc(), bufW);
  bufB.resize(pd.diff_src_desc().get_size() / sizeof(float));
  p.bwdDataPrim.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, wrapMemory(pd.diff_dst_desc(), dys)}, {DNNL_ARG_WEIGHTS, wrapMemory(pd.weights_desc(), ws)}, {DNNL_ARG_DIFF_SRC, wrapMemory(pd.diff_src_desc(), bufB.data())}});
  cpuStream().wait();
  reorderInto(pd.diff_src_desc(), bufB.data(), p.geo.src, dx);
  return true;
}

bool conv2dBackwardWeightNhwc(const ConvGeometry& g, const float* dy, const float* x, float* dw) {
  std::lock_guard<std::mutex> lock(mu);
  Plan& p = planFor(g);
  if (!p.weightsFast) return false;
  const auto& pd = p.bwdWeights;
  const float* dys = inLayout(p.geo.dst, dy, pd.diff_dst_desc(), bufA);
  const float* xs = inLayout(p.geo.src, x, pd.src_desc(), bufB);
  bufW.resize(pd.diff_weights_desc().get_size() / sizeof(float));
  p.bwdWeightsPrim.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, wrapMemory(pd.diff_dst_desc(), dys)}, {DNNL_ARG_SRC, wrapMemory(pd.src_desc(), xs)}, {DNNL_ARG_DIFF_WEIGHTS, wrapMemory(pd.diff_weights_desc(), bufW.data())}});
  cpuStream().wait();
  reorderInto(pd.diff_weights_desc(), bufW.data(), p.geo.weights, dw);
  return true;
}

}  // namespace resnext
