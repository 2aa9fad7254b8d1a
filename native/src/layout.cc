// Inference in oneDNN's preferred layouts: the fused convolution is planned in NHWC when oneDNN
// has a fast kernel for it, else with format `any` (e.g. nChw16c); its output
// stays in that layout for the next convolution, and everything else reorders it to plain NCHW
// first. Layouts are numbered: 0 is plain NCHW, n > 0 the n-th blocked layout seen.
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels.h"

namespace resnext {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

struct BlockedPlan {
  convolution_forward prim;
  memory::desc src, weights, bias, dst;
  int dstLayout;
  bool residualOperand;  // the residual is a binary-add post-op operand (else a sum into dst)
};

std::mutex planMutex;
std::unordered_map<std::string, BlockedPlan> plans;
std::vector<memory::desc> layouts;  // layout n is layouts[n - 1]
std::vector<float> scratch;         // a reordered input (only the JavaScript thread calls in)
std::vector<float> residualScratch; // a reordered residual

memory::desc plain(const memory::dims& d) { return memory::desc(d, dt::f32, tag::nchw); }

int layoutIdLocked(const memory::desc& d) {
  if (d == plain(d.dims())) return 0;
  for (size_t i = 0; i < layouts.size(); i++) if (layouts[i] == d) return static_cast<int>(i) + 1;
  layouts.push_back(d);
  return static_cast<int>(layouts.size());
}

memory::desc describeLocked(int layout, const memory::dims& dims) {
  if (layout == 0) return plain(dims);
  if (layout < 0 || static_cast<size_t>(layout) > layouts.size()) throw std::invalid_argument("unknown layout " + std::to_string(layout));
  const memory::desc& d = layouts[layout - 1];
  if (d.dims() != dims) throw std::invalid_argument("layout " + std::to_string(layout) + " does not have the expected dimensions");
  return d;
}

const BlockedPlan& planLocked(const ConvGeometry& g, bool residual, bool relu) {
  const std::string k = convKey(g, 'b', true) + (residual ? "+" : "") + (relu ? "r" : "");
  auto it = plans.find(k);
  if (it != plans.end()) return it->second;
  const ConvDescs d = describeConv(g);
  // The residual enters as a binary-add post-op reading it where it lies; a sum post-op would need
  // it copied into dst first (a full extra pass over memory).
  auto attrFor = [&](const memory::desc* residualDesc) {
    post_ops ops;
    if (residual) {
      if (residualDesc) ops.append_binary(algorithm::binary_add, *residualDesc);
      else ops.append_sum(1.0f);
    }
    if (relu) ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
    primitive_attr attr;
    attr.set_post_ops(ops);
    return attr;
  };
  auto make = [&](tag activations, const primitive_attr& attr) {
    convolution_forward::desc desc(prop_kind::forward_inference, algorithm::convolution_direct,
        memory::desc(d.src.dims(), dt::f32, activations), memory::desc(d.weights.dims(), dt::f32, tag::any), d.bias, memory::desc(d.dst.dims(), dt::f32, activations),
        d.strides, d.dilates, d.padL, d.padR);
    return convolution_forward::primitive_desc(desc, attr, cpuEngine());
  };
  // NHWC everywhere when oneDNN has a real kernel for it (its 1x1 and grouped kernels do): a chain
  // of convolutions then needs no reorders between them; otherwise the layout oneDNN prefers.
  const primitive_attr sumAttr = attrFor(nullptr);
  convolution_forward::primitive_desc pd;
  try {
    pd = make(tag::nhwc, sumAttr);
    if (!fastKernel(pd.impl_info_str())) pd = make(tag::any, sumAttr);
  } catch (const dnnl::error&) {
    pd = make(tag::any, sumAttr);  // no NHWC kernel for this shape
  }
  bool residualOperand = false;
  if (residual) {
    const memory::desc dst = pd.dst_desc();
    try {
      convolution_forward::primitive_desc withOperand = make(dst == memory::desc(d.dst.dims(), dt::f32, tag::nhwc) ? tag::nhwc : tag::any, attrFor(&dst));
      if (fastKernel(withOperand.impl_info_str()) && withOperand.dst_desc() == dst) { pd = withOperand; residualOperand = true; }
    } catch (const dnnl::error&) {
      // keep the sum post-op
    }
  }
  BlockedPlan p{convolution_forward(pd), pd.src_desc(), pd.weights_desc(), pd.bias_desc(), pd.dst_desc(), 0, residualOperand};
  p.dstLayout = layoutIdLocked(p.dst);
  return plans.emplace(k, std::move(p)).first->second;
}

}  // namespace

void reorderInto(const memory::desc& from, const float* src, const memory::desc& to, float* dst) {
  memory a = wrapMemory(from, src), b = wrapMemory(to, dst);
  reorder(a, b).execute(cpuStream(), a, b);
  cpuStream().wait();
}

const float* inLayout(const memory::desc& from, const float* src, const memory::desc& to, std::vector<float>& buf) {
  if (from == to) return src;
  buf.resize(to.get_size() / sizeof(float));
  reorderInto(from, src, to, buf.data());
  return buf.data();
}

BlockedInfo blockedPlan(const ConvGeometry& g, bool residual, bool relu) {
  std::lock_guard<std::mutex> lock(planMutex);
  const BlockedPlan& p = planLocked(g, residual, relu);
  return {p.dstLayout, static_cast<int64_t>(p.dst.get_size() / sizeof(float)), static_cast<int64_t>(p.weights.get_size() / sizeof(float))};
}

void blockedPrepareWeights(const ConvGeometry& g, bool residual, bool relu, const float* w, float* out) {
  std::lock_guard<std::mutex> lock(planMutex);
  const BlockedPlan& p = planLocked(g, residual, relu);
  reorderInto(describeConv(g).weights, w, p.weights, out);
}

void conv2dFusedBlocked(const ConvGeometry& g, bool relu, const float* x, int xLayout, const float* w, const float* b,
                        const float* residual, int residualLayout, float* y) {
  std::lock_guard<std::mutex> lock(planMutex);
  const BlockedPlan& p = planLocked(g, residual != nullptr, relu);
  const memory::desc xd = describeLocked(xLayout, {g.n, g.c, g.h, g.w});
  const float* src = inLayout(xd, x, p.src, scratch);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, wrapMemory(p.src, src)}, {DNNL_ARG_WEIGHTS, wrapMemory(p.weights, w)},
                                       {DNNL_ARG_BIAS, wrapMemory(p.bias, b)}, {DNNL_ARG_DST, wrapMemory(p.dst, y)}};
  if (residual) {
    const memory::desc rd = describeLocked(residualLayout, {g.n, g.o, g.oh, g.ow});
    if (p.residualOperand) {
      args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, wrapMemory(p.dst, inLayout(rd, residual, p.dst, residualScratch)));
    } else if (rd == p.dst) {
      std::memcpy(y, residual, p.dst.get_size());
    } else {
      reorderInto(rd, residual, p.dst, y);
    }
  }
  p.prim.execute(cpuStream(), args);
  cpuStream().wait();
}

// Max pooling of a blocked input, in its layout (inference): no reorder to NCHW and back.
namespace {
struct PoolPlan { pooling_forward prim; memory::desc src, dst; int dstLayout; };
std::unordered_map<std::string, PoolPlan> poolPlans;

const PoolPlan& poolPlanLocked(const PoolGeometry& g, int xLayout) {
  std::string k = std::to_string(xLayout);
  for (int64_t v : {g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.strideH, g.strideW, g.padH, g.padW}) k += ":" + std::to_string(v);
  auto it = poolPlans.find(k);
  if (it != poolPlans.end()) return it->second;
  const memory::desc src = describeLocked(xLayout, {g.n, g.c, g.h, g.w});
  const memory::dims padR{(g.oh - 1) * g.strideH + g.kh - g.h - g.padH, (g.ow - 1) * g.strideW + g.kw - g.w - g.padW};
  if (padR[0] < 0 || padR[1] < 0) throw std::invalid_argument("pooling window leaves input rows unread");
  pooling_forward::desc desc(prop_kind::forward_inference, algorithm::pooling_max, src, memory::desc({g.n, g.c, g.oh, g.ow}, dt::f32, tag::any),
                             {g.strideH, g.strideW}, {g.kh, g.kw}, {g.padH, g.padW}, padR);
  pooling_forward::primitive_desc pd(desc, cpuEngine());
  PoolPlan p{pooling_forward(pd), pd.src_desc(), pd.dst_desc(), 0};
  p.dstLayout = layoutIdLocked(p.dst);
  return poolPlans.emplace(k, std::move(p)).first->second;
}
}  // namespace

BlockedInfo maxPoolBlockedPlan(const PoolGeometry& g, int xLayout) {
  std::lock_guard<std::mutex> lock(planMutex);
  const PoolPlan& p = poolPlanLocked(g, xLayout);
  return {p.dstLayout, static_cast<int64_t>(p.dst.get_size() / sizeof(float)), 0};
}

void maxPoolBlocked(const PoolGeometry& g, const float* x, int xLayout, float* y) {
  std::lock_guard<std::mutex> lock(planMutex);
  const PoolPlan& p = poolPlanLocked(g, xLayout);
  p.prim.execute(cpuStream(), {{DNNL_ARG_SRC, wrapMemory(p.src, x)}, {DNNL_ARG_DST, wrapMemory(p.dst, y)}});
  cpuStream().wait();
}

std::vector<int64_t> layoutDims(int layout) {
  std::lock_guard<std::mutex> lock(planMutex);
  if (layout < 1 || static_cast<size_t>(layout) > layouts.size()) throw std::invalid_argument("unknown layout " + std::to_string(layout));
  const memory::desc& d = layouts[layout - 1];
  const memory::dims shape = d.dims();  // dims() returns a copy: take begin and end of one
  std::vector<int64_t> dims(shape.begin(), shape.end());
  dims.push_back(static_cast<int64_t>(d.get_size() / sizeof(float)));  // physical elements last
  return dims;
}

void layoutToPlain(int layout, const float* src, float* dst) {
  std::lock_guard<std::mutex> lock(planMutex);
  if (layout < 1 || static_cast<size_t>(layout) > layouts.size()) throw std::invalid_argument("unknown layout " + std::to_string(layout));
  const memory::desc d = layouts[layout - 1];
  reorderInto(d, src, plain(d.dims()), dst);
}

}  // namespace resnext
