// The layout policy (see layout_policy.h): the training and inference layout decisions, the table
// of numbered inference layouts, and the reorders between layouts.
#include "layout_policy.h"

#include <string>

#include "plans.h"

namespace resnext {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {
bool groupedTrainingNhwc = true;
std::vector<StoredLayout> layouts;  // layout n is layouts[n - 1]

memory::desc plain(const memory::dims& d) { return memory::desc(d, dt::f32, tag::nchw); }

const StoredLayout& known(int layout) {
  if (layout < 1 || static_cast<size_t>(layout) > layouts.size()) throw std::invalid_argument("unknown layout " + std::to_string(layout));
  return layouts[layout - 1];
}
}  // namespace

bool fastKernel(const char* impl) {
  const std::string s = impl;
  return s.find("gemm") == std::string::npos && s.find("ref") == std::string::npos;
}

bool trainsInNhwc(const ConvGeometry& g) { return g.groups > 1 && groupedTrainingNhwc; }
void setGroupedTrainingNhwc(bool on) { groupedTrainingNhwc = on; }

const std::vector<tag>& inferenceActivationTags(bool int8) {
  // float32 and bf16: nChw16c first — oneDNN's blocked 1x1 kernels take the residual add in their
  // epilogue ~30% faster than the NHWC ones (ResNeXt-50 at batch 8: +11% end to end, measured
  // interleaved); int8: NHWC first, where its VNNI 1x1 and grouped kernels run. `any` lets oneDNN
  // pick its layout for the shapes without a kernel in the first (e.g. 4-channel groups in nChw16c).
  static const std::vector<tag> blocked{tag::nChw16c, tag::any};
  static const std::vector<tag> nhwc{tag::nhwc, tag::any};
  return int8 ? nhwc : blocked;
}

tag inferenceInputTag(tag activations, bool float32, int64_t channels) {
  // the stem reads the plain NCHW image, so neither it nor the stem's output needs a reorder
  // (ResNeXt-50 batch 1: oneDNN's nchw→nChw16c stem 0.61 ms vs 0.58 in NHWC, saving three reorders
  // worth ~0.2 ms); with `any` oneDNN chooses
  return float32 && channels < 16 && activations != tag::any ? tag::nchw : activations;
}

void reorderInto(const memory::desc& from, const void* src, const memory::desc& to, void* dst, float scale) {
  memory a(from, cpuEngine(), const_cast<void*>(src)), b(to, cpuEngine(), dst);
  primitive_attr attr;
  if (scale != 1.0f) attr.set_output_scales(0, {scale});
  reorder(reorder::primitive_desc(a, b, attr)).execute(cpuStream(), a, b);
  cpuStream().wait();
}

int64_t floatElements(const memory::desc& d) { return static_cast<int64_t>((d.get_size() + sizeof(float) - 1) / sizeof(float)); }

const float* inLayout(const memory::desc& from, const float* src, const memory::desc& to, std::vector<float>& buf, float scale) {
  if (from == to && scale == 1.0f) return src;
  buf.resize(floatElements(to));
  reorderInto(from, src, to, buf.data(), scale);
  return buf.data();
}

int layoutId(const memory::desc& d, float scale) {
  std::lock_guard<std::recursive_mutex> lock(planLock());
  if (d == plain(d.dims()) && scale == 1.0f) return 0;
  for (size_t i = 0; i < layouts.size(); i++) {
    if (layouts[i].desc == d && layouts[i].scale == scale) return static_cast<int>(i) + 1;
  }
  layouts.push_back({d, scale});
  return static_cast<int>(layouts.size());
}

StoredLayout layoutDesc(int layout, const memory::dims& dims) {
  std::lock_guard<std::recursive_mutex> lock(planLock());
  if (layout == 0) return {plain(dims), 1.0f};
  const StoredLayout& l = known(layout);
  if (l.desc.dims() != dims) throw std::invalid_argument("layout " + std::to_string(layout) + " does not have the expected dimensions");
  return l;
}

std::vector<int64_t> layoutDims(int layout) {
  std::lock_guard<std::recursive_mutex> lock(planLock());
  const memory::desc& d = known(layout).desc;
  const memory::dims shape = d.dims();  // dims() returns a copy: take begin and end of one
  std::vector<int64_t> dims(shape.begin(), shape.end());
  dims.push_back(floatElements(d));  // physical float32 elements last
  return dims;
}

void layoutToPlain(int layout, const float* src, float* dst) {
  StoredLayout l;
  {
    std::lock_guard<std::recursive_mutex> lock(planLock());
    l = known(layout);
  }
  reorderInto(l.desc, src, plain(l.desc.dims()), dst, l.scale);
}

std::recursive_mutex& planLock() {
  static std::recursive_mutex mu;
  return mu;
}

}  // namespace resnext
