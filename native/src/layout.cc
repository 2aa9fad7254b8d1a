// Inference in the layouts the policy picks (layout_policy.h): the fused convolution (BN folded,
// residual and ReLU as post-ops; float32, bf16 or int8 arithmetic) and max pooling, planned once
// per geometry and precision (plans.h), reading and writing numbered layouts so a chain of them
// needs no reorder to NCHW in between.
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "grouped_direct.h"
#include "kernels.h"
#include "layout_policy.h"
#include "plans.h"

namespace resnext {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

struct BlockedPlan {
  convolution_forward prim;
  memory::desc src, weights, bias, dst;
  int dstLayout;
  bool residualOperand;     // the residual is a binary-add post-op operand (else a sum into dst)
  memory::desc residualIn;  // the residual as the kernel reads it: dst's layout, the residual's type
  float srcScale;           // the input's step (int8; 1 otherwise)
  float residualScale;      // the residual's step (int8; 1 otherwise)
  std::vector<float> biasToAccumulator;  // int8: 1 / (srcScale * weightScale[c]) (oneDNN adds bias before scaling)
  BlockedOperands operands;
  // what runs it: `prim`, or one of our grouped kernels (grouped_direct.h)
  enum class Kernel { oneDnn, groupedFloat, groupedBf16, groupedInt8 } kernel = Kernel::oneDnn;
  bool relu = false;                // our kernels: the epilogue's ReLU
  bool dstSigned = false;           // our int8 kernel: the output's type
  std::vector<float> directScales;  // our int8 kernel: output scales in its channel order
  int number = -1;                  // its index in `numbered`
  // the kernel's arguments, made once; each call only points them at its arrays
  std::unordered_map<int, memory> args;
};

std::vector<float> scratch;          // a reordered input (only the JavaScript thread calls in)
std::vector<float> residualScratch;  // a reordered residual
std::vector<float> biasScratch;      // an int8 plan's bias in accumulator units

using Kind = Precision::Kind;
dt int8Type(bool isSigned) { return isSigned ? dt::s8 : dt::u8; }

// int8: per output channel, the multiplier from accumulator to `unitScale` steps (oneDNN's output
// scale) and the bias's into accumulator units, 1 / (srcScale · weightScale), as float32 computes them.
void int8Scales(const Precision& pr, float unitScale, std::vector<float>& outputScales, std::vector<float>& biasToAccumulator) {
  for (float ws : pr.weightScales) {
    const float accScale = pr.srcScale * ws;
    outputScales.push_back(accScale / unitScale);
    biasToAccumulator.push_back(1.0f / accScale);
  }
}

bool runsDirect(const ConvGeometry& g, bool residual, const Precision& pr) {
  switch (pr.kind) {
    case Kind::f32: return directGroupedConvApplies(g, residual);
    case Kind::bf16: return directGroupedBf16Applies(g, residual);
    case Kind::int8: return directGroupedInt8Applies(g, residual, pr.srcSigned);
  }
  return false;
}

// A plan for one of our grouped kernels: float32 and bf16 in nChw16c, int8 in NHWC; their own weight packing.
BlockedPlan directPlan(const ConvGeometry& g, bool relu, const Precision& pr) {
  const bool int8 = pr.kind == Kind::int8;
  const dt floatType = pr.kind == Kind::bf16 ? dt::bf16 : dt::f32;
  const memory::desc src({g.n, g.c, g.h, g.w}, int8 ? dt::u8 : floatType, int8 ? tag::nhwc : tag::nChw16c);
  const memory::desc dst({g.n, g.o, g.oh, g.ow}, int8 ? int8Type(pr.dstSigned) : floatType, int8 ? tag::nhwc : tag::nChw16c);
  const memory::desc packed = int8 ? memory::desc({directGroupedInt8WeightBytes(g)}, dt::s8, tag::x)
                                   : memory::desc({directGroupedWeightElements(g)}, dt::f32, tag::x);
  std::vector<float> outputScales, biasToAccumulator;
  if (int8) int8Scales(pr, pr.dstScale, outputScales, biasToAccumulator);
  BlockedPlan p{convolution_forward(), src, packed, describeConv(g).bias, dst, layoutId(dst, int8 ? pr.dstScale : 1.0f), false,
                dst, int8 ? pr.srcScale : 1.0f, 1.0f, biasToAccumulator, {g, false, floatElements(packed), floatElements(dst)}};
  p.kernel = int8 ? BlockedPlan::Kernel::groupedInt8
                  : pr.kind == Kind::bf16 ? BlockedPlan::Kernel::groupedBf16 : BlockedPlan::Kernel::groupedFloat;
  p.relu = relu;
  p.dstSigned = pr.dstSigned;
  for (int64_t lane = 0; lane < static_cast<int64_t>(outputScales.size()); lane++)
    p.directScales.push_back(outputScales[directGroupedInt8Channel(lane)]);
  return p;
}

BlockedPlan makePlan(const ConvGeometry& g, bool residual, bool relu, const Precision& pr) {
  if (pr.kind == Kind::int8 && static_cast<int64_t>(pr.weightScales.size()) != g.o)
    throw std::invalid_argument("int8: one weight scale per output channel expected");
  if (runsDirect(g, residual, pr)) return directPlan(g, relu, pr);
  const ConvDescs d = describeConv(g);
  const bool int8 = pr.kind == Kind::int8;
  const dt srcType = int8 ? int8Type(pr.srcSigned) : pr.kind == Kind::bf16 ? dt::bf16 : dt::f32;
  const dt dstType = int8 ? int8Type(pr.dstSigned) : srcType;
  const dt weightType = int8 ? dt::s8 : srcType;
  // int8 with a residual: the accumulator is scaled to residual steps, the residual's integers are
  // added as they are (oneDNN 2.6's binary post-op has no scale), then ReLU, then one multiply by
  // residual step / output step (after ReLU: the same for a positive factor).
  const float unitScale = int8 && residual ? pr.residualScale : pr.dstScale;
  std::vector<float> outputScales, biasToAccumulator;
  if (int8) int8Scales(pr, unitScale, outputScales, biasToAccumulator);
  memory::desc int8Residual;  // int8 with a residual: the binary operand, in the layout being tried
  // The residual enters as a binary-add post-op reading it where it lies; a sum post-op would need
  // it copied into dst first (a full extra pass over memory).
  auto attrFor = [&](const memory::desc* residualDesc) {
    post_ops ops;
    if (residual) {
      if (residualDesc) ops.append_binary(algorithm::binary_add, *residualDesc);
      else ops.append_sum(1.0f);
    }
    if (relu) ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
    if (int8 && residual) ops.append_eltwise(1.0f, algorithm::eltwise_linear, pr.residualScale / pr.dstScale, 0.0f);
    primitive_attr attr;
    attr.set_post_ops(ops);
    if (int8) attr.set_output_scales(1 << 1, outputScales);
    return attr;
  };
  auto make = [&](tag activations, const primitive_attr& attr) {
    const tag srcTag = inferenceInputTag(activations, pr.kind == Kind::f32, g.c);
    convolution_forward::desc desc(prop_kind::forward_inference, algorithm::convolution_direct,
        memory::desc(d.src.dims(), srcType, srcTag), memory::desc(d.weights.dims(), weightType, tag::any), d.bias,
        memory::desc(d.dst.dims(), dstType, activations), d.strides, d.dilates, d.padL, d.padR);
    return convolution_forward::primitive_desc(desc, attr, cpuEngine());
  };
  // the policy's layouts in order: the first with a real kernel, else the last (oneDNN's choice);
  // int8 takes its residual as a binary operand in the output's layout from the start
  const std::vector<tag>& tags = inferenceActivationTags(int8);
  convolution_forward::primitive_desc pd;
  tag chosen = tags.back();
  for (size_t i = 0; i < tags.size(); i++) {
    const bool last = i + 1 == tags.size();
    try {
      if (int8 && residual) int8Residual = memory::desc(d.dst.dims(), int8Type(pr.residualSigned), tags[i]);
      pd = make(tags[i], attrFor(int8 && residual ? &int8Residual : nullptr));
      chosen = tags[i];
      if (last || fastKernel(pd.impl_info_str())) break;
    } catch (const dnnl::error&) {
      if (last) throw;  // no kernel for this shape in any layout: oneDNN declines
    }
  }
  bool residualOperand = int8 && residual;
  if (residual && !int8) {
    const memory::desc dst = pd.dst_desc();
    try {
      convolution_forward::primitive_desc withOperand = make(chosen, attrFor(&dst));
      if (fastKernel(withOperand.impl_info_str()) && withOperand.dst_desc() == dst) { pd = withOperand; residualOperand = true; }
    } catch (const dnnl::error&) {
      // keep the sum post-op
    }
  }
  // the residual as the kernel reads it: dst's layout, in the residual's type for int8
  memory::desc residualIn = pd.dst_desc();
  if (int8) residualIn.data.data_type = static_cast<dnnl_data_type_t>(int8Type(pr.residualSigned));
  auto unbound = [](const memory::desc& md) { return memory(md, cpuEngine(), DNNL_MEMORY_NONE); };
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, unbound(pd.src_desc())}, {DNNL_ARG_WEIGHTS, unbound(pd.weights_desc())},
                                       {DNNL_ARG_BIAS, unbound(pd.bias_desc())}, {DNNL_ARG_DST, unbound(pd.dst_desc())}};
  if (residualOperand) args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, unbound(residualIn));
  const BlockedOperands operands{g, residual, floatElements(pd.weights_desc()), floatElements(pd.dst_desc())};
  return {convolution_forward(pd), pd.src_desc(), pd.weights_desc(), pd.bias_desc(), pd.dst_desc(),
          layoutId(pd.dst_desc(), int8 ? pr.dstScale : 1.0f), residualOperand, residualIn,
          int8 ? pr.srcScale : 1.0f, int8 ? pr.residualScale : 1.0f, biasToAccumulator, operands, BlockedPlan::Kernel::oneDnn, relu, pr.dstSigned, {}, -1, args};
}

std::vector<BlockedPlan*> numbered;  // plan n is numbered[n]

BlockedPlan& numberedPlan(int plan) {
  std::lock_guard<std::recursive_mutex> lock(planLock());
  if (plan < 0 || static_cast<size_t>(plan) >= numbered.size()) throw std::invalid_argument("unknown plan " + std::to_string(plan));
  return *numbered[plan];
}

}  // namespace

std::string Precision::key() const {
  return kind == Kind::f32 ? "" : kind == Kind::bf16 ? "h" : "q" + std::to_string(id);
}

BlockedInfo blockedPlan(const ConvGeometry& g, bool residual, bool relu, const Precision& pr) {
  std::lock_guard<std::recursive_mutex> lock(planLock());
  const std::string k =
      convKey(g, 'b', true) + (residual ? "+" : "") + (relu ? "r" : "") + pr.key() + (runsDirect(g, residual, pr) ? "d" : "");
  bool made = false;
  BlockedPlan& p = cachedPlan<BlockedPlan>(k, [&] {
    made = true;
    return makePlan(g, residual, relu, pr);
  });
  if (made) {
    p.number = static_cast<int>(numbered.size());
    numbered.push_back(&p);
  }
  return {p.dstLayout, p.operands.dstElements, p.operands.weightElements, p.number};
}

BlockedOperands blockedOperands(int plan) { return numberedPlan(plan).operands; }

void blockedPrepareWeights(int plan, const float* w, float* out) {
  const BlockedPlan& p = numberedPlan(plan);
  switch (p.kernel) {
    case BlockedPlan::Kernel::groupedFloat: return directGroupedPackWeights(p.operands.g, w, out, false);
    case BlockedPlan::Kernel::groupedBf16: return directGroupedPackWeights(p.operands.g, w, out, true);
    case BlockedPlan::Kernel::groupedInt8: return directGroupedInt8PackWeights(p.operands.g, w, reinterpret_cast<int8_t*>(out));
    case BlockedPlan::Kernel::oneDnn: return reorderInto(describeConv(p.operands.g).weights, w, p.weights, out);
  }
}

void conv2dFusedBlocked(int plan, const float* x, int xLayout, const float* w, const float* b, const float* residual,
                        int residualLayout, float* y) {
  std::lock_guard<std::recursive_mutex> lock(planLock());  // the scratch buffers and arguments are shared
  BlockedPlan& p = numberedPlan(plan);
  const ConvGeometry& g = p.operands.g;
  const StoredLayout xl = layoutDesc(xLayout, {g.n, g.c, g.h, g.w});
  const float* src = inLayout(xl.desc, x, p.src, scratch, xl.scale / p.srcScale);
  if (p.kernel == BlockedPlan::Kernel::groupedFloat) return directGroupedConv(g, src, w, b, p.relu, y);
  if (p.kernel == BlockedPlan::Kernel::groupedBf16) {
    return directGroupedBf16Conv(g, reinterpret_cast<const uint16_t*>(src), w, b, p.relu, reinterpret_cast<uint16_t*>(y));
  }
  const bool ownInt8 = p.kernel == BlockedPlan::Kernel::groupedInt8;
  if (!p.biasToAccumulator.empty()) {
    biasScratch.resize(g.o);
    for (int64_t lane = 0; lane < g.o; lane++) {
      const int64_t c = ownInt8 ? directGroupedInt8Channel(lane) : lane;  // our kernel's channel order
      biasScratch[lane] = b[c] * p.biasToAccumulator[c];
    }
    b = biasScratch.data();
  }
  if (ownInt8) {
    return directGroupedInt8Conv(g, reinterpret_cast<const uint8_t*>(src), reinterpret_cast<const int8_t*>(w), b,
                                 p.directScales.data(), p.relu, p.dstSigned, reinterpret_cast<int8_t*>(y));
  }
  auto bind = [&](int arg, const void* data) { p.args.at(arg).set_data_handle(const_cast<void*>(data)); };
  bind(DNNL_ARG_SRC, src);
  bind(DNNL_ARG_WEIGHTS, w);
  bind(DNNL_ARG_BIAS, b);
  bind(DNNL_ARG_DST, y);
  if (residual) {
    const StoredLayout rl = layoutDesc(residualLayout, {g.n, g.o, g.oh, g.ow});
    const float scale = rl.scale / p.residualScale;
    if (p.residualOperand) {
      bind(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, inLayout(rl.desc, residual, p.residualIn, residualScratch, scale));
    } else if (rl.desc == p.residualIn && scale == 1.0f) {
      std::memcpy(y, residual, p.residualIn.get_size());
    } else {
      reorderInto(rl.desc, residual, p.residualIn, y, scale);
    }
  }
  p.prim.execute(cpuStream(), p.args);
  cpuStream().wait();
}

// The global average of each channel of a stored activation (inference's last pooling), read where
// it lies: no reorder of the whole map to NCHW first. Each value is what the reorder would give
// (float32, bf16 widened, or the integer times the layout's step), summed in double in row-major
// pixel order as adaptiveAvgPool2d sums a plain map, so the result is the same to the bit.
void globalAvgPoolStored(int layout, int64_t n, int64_t c, int64_t h, int64_t w, const void* x, float* y) {
  const StoredLayout l = layoutDesc(layout, {n, c, h, w});
  const dnnl_blocking_desc_t& b = l.desc.data.format_desc.blocking;
  if (l.desc.data.format_kind != dnnl_blocked || b.inner_nblks > 1 || (b.inner_nblks == 1 && b.inner_idxs[0] != 1))
    throw std::invalid_argument("globalAvgPoolStored: layout " + std::to_string(layout) + " is not a channel-blocked or plain one");
  const int64_t block = b.inner_nblks == 1 ? b.inner_blks[0] : 1;
  const memory::data_type type = l.desc.data_type();
  if (type != dt::f32 && type != dt::bf16 && type != dt::u8 && type != dt::s8)
    throw std::invalid_argument("globalAvgPoolStored: layout " + std::to_string(layout) + " has an unsupported data type");
  const float scale = l.scale;
  auto value = [&](int64_t i) -> float {  // what reorderInto to plain float32 gives for element i
    switch (type) {
      case dt::bf16: {
        const uint32_t bits = static_cast<uint32_t>(static_cast<const uint16_t*>(x)[i]) << 16;
        float f;
        std::memcpy(&f, &bits, sizeof f);
        return f;
      }
      case dt::u8: return scale * static_cast<float>(static_cast<const uint8_t*>(x)[i]);
      case dt::s8: return scale * static_cast<float>(static_cast<const int8_t*>(x)[i]);
      default: return static_cast<const float*>(x)[i];
    }
  };
  const dnnl_dims_t& stride = b.strides;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < n * c; p++) {
    const int64_t in = p / c, ic = p % c;
    const int64_t base = l.desc.data.offset0 + in * stride[0] + (ic / block) * stride[1] + ic % block;
    double s = 0;
    for (int64_t yy = 0; yy < h; yy++)
      for (int64_t xx = 0; xx < w; xx++) s += value(base + yy * stride[2] + xx * stride[3]);
    y[p] = static_cast<float>(s / (h * w));
  }
}

// Max pooling of a blocked input, in its layout (inference): no reorder to NCHW and back.
namespace {
struct PoolPlan { pooling_forward prim; memory::desc src, dst; int dstLayout; };

PoolPlan makePoolPlan(const PoolGeometry& g, int xLayout) {
  const StoredLayout in = layoutDesc(xLayout, {g.n, g.c, g.h, g.w});
  const memory::desc& src = in.desc;
  const memory::dims padR{(g.oh - 1) * g.strideH + g.kh - g.h - g.padH, (g.ow - 1) * g.strideW + g.kw - g.w - g.padW};
  if (padR[0] < 0 || padR[1] < 0) throw std::invalid_argument("pooling window leaves input rows unread");
  pooling_forward::desc desc(prop_kind::forward_inference, algorithm::pooling_max, src, memory::desc({g.n, g.c, g.oh, g.ow}, src.data_type(), tag::any),
                             {g.strideH, g.strideW}, {g.kh, g.kw}, {g.padH, g.padW}, padR);
  pooling_forward::primitive_desc pd(desc, cpuEngine());
  return {pooling_forward(pd), pd.src_desc(), pd.dst_desc(), layoutId(pd.dst_desc(), in.scale)};  // the max keeps the step
}

const PoolPlan& poolPlanFor(const PoolGeometry& g, int xLayout) {
  std::string k = "p" + std::to_string(xLayout);
  for (int64_t v : {g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.strideH, g.strideW, g.padH, g.padW}) k += ":" + std::to_string(v);
  return cachedPlan<PoolPlan>(k, [&] { return makePoolPlan(g, xLayout); });
}
}  // namespace

BlockedInfo maxPoolBlockedPlan(const PoolGeometry& g, int xLayout) {
  const PoolPlan& p = poolPlanFor(g, xLayout);
  return {p.dstLayout, floatElements(p.dst), 0};
}

void maxPoolBlocked(const PoolGeometry& g, const float* x, int xLayout, float* y) {
  const PoolPlan& p = poolPlanFor(g, xLayout);
  p.prim.execute(cpuStream(), {{DNNL_ARG_SRC, wrapMemory(p.src, x)}, {DNNL_ARG_DST, wrapMemory(p.dst, y)}});
  cpuStream().wait();
}

}  // namespace resnext
