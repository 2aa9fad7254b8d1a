// Grouped convolutions for training through oneDNN's NHWC kernels: on plain NCHW oneDNN 2.6 runs
// a grouped conv (ResNeXt's 32 groups of 4) through a slow gemm path, while its NHWC kernels are
// several times faster even after reordering the operands at each call's edges. The layout policy
// (layout_policy.cc) sends a conv here; it runs here only where oneDNN reports a real (non-gemm,
// non-reference) NHWC kernel for the shape.
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels.h"
#include "layout_policy.h"
#include "plans.h"

namespace resnext {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

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

std::vector<float> bufA, bufB, bufW;  // reordered operands (only the JavaScript thread calls in)

Plan makePlan(const ConvGeometry& g) {
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
  return p;
}

Plan& planFor(const ConvGeometry& g) {
  return cachedPlan<Plan>(convKey(g, 'n', false), [&] { return makePlan(g); });
}

// One input of a call: the caller's layout and buffer, the layout the primitive wants, and the
// scratch a reorder between them goes to (null when the two layouts are the same).
struct Operand {
  int arg;
  memory::desc from, to;
  const float* data;
  std::vector<float>* scratch;
};

// Runs `prim` with each input reordered into the layout it wants, its output written to `scratch`
// in the primitive's layout `outTo` and then reordered into the caller's `out` (laid out as `outFrom`).
void runAtEdges(const primitive& prim, const std::vector<Operand>& inputs, int outArg, const memory::desc& outTo,
                const memory::desc& outFrom, float* out, std::vector<float>& scratch) {
  std::unordered_map<int, memory> args;
  for (const Operand& in : inputs) args.emplace(in.arg, wrapMemory(in.to, in.scratch ? inLayout(in.from, in.data, in.to, *in.scratch) : in.data));
  scratch.resize(outTo.get_size() / sizeof(float));
  args.emplace(outArg, wrapMemory(outTo, scratch.data()));
  prim.execute(cpuStream(), args);
  cpuStream().wait();
  reorderInto(outTo, scratch.data(), outFrom, out);
}

}  // namespace

bool conv2dForwardNhwc(const ConvGeometry& g, const float* x, const float* w, const float* b, float* y) {
  std::lock_guard<std::recursive_mutex> lock(planLock());
  Plan& p = planFor(g);
  if (!p.forwardFast) return false;
  const auto& pd = b ? p.fwdBias : p.fwd;
  std::vector<Operand> inputs{{DNNL_ARG_SRC, p.geo.src, pd.src_desc(), x, &bufA}, {DNNL_ARG_WEIGHTS, p.geo.weights, pd.weights_desc(), w, &bufW}};
  if (b) inputs.push_back({DNNL_ARG_BIAS, pd.bias_desc(), pd.bias_desc(), b, nullptr});
  runAtEdges(b ? p.fwdBiasPrim : p.fwdPrim, inputs, DNNL_ARG_DST, pd.dst_desc(), p.geo.dst, y, bufB);
  return true;
}

bool conv2dBackwardDataNhwc(const ConvGeometry& g, const float* dy, const float* w, float* dx) {
  std::lock_guard<std::recursive_mutex> lock(planLock());
  Plan& p = planFor(g);
  if (!p.dataFast) return false;
  const auto& pd = p.bwdData;
  runAtEdges(p.bwdDataPrim, {{DNNL_ARG_DIFF_DST, p.geo.dst, pd.diff_dst_desc(), dy, &bufA}, {DNNL_ARG_WEIGHTS, p.geo.weights, pd.weights_desc(), w, &bufW}},
             DNNL_ARG_DIFF_SRC, pd.diff_src_desc(), p.geo.src, dx, bufB);
  return true;
}

bool conv2dBackwardWeightNhwc(const ConvGeometry& g, const float* dy, const float* x, float* dw) {
  std::lock_guard<std::recursive_mutex> lock(planLock());
  Plan& p = planFor(g);
  if (!p.weightsFast) return false;
  const auto& pd = p.bwdWeights;
  runAtEdges(p.bwdWeightsPrim, {{DNNL_ARG_DIFF_DST, p.geo.dst, pd.diff_dst_desc(), dy, &bufA}, {DNNL_ARG_SRC, p.geo.src, pd.src_desc(), x, &bufB}},
             DNNL_ARG_DIFF_WEIGHTS, pd.diff_weights_desc(), p.geo.weights, dw, bufW);
  return true;
}

}  // namespace resnext
