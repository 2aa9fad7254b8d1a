// Where activations live and when a reorder happens — decided here and nowhere else:
// - training: plain NCHW, except grouped convolutions, which run in NHWC (oneDNN 2.6's plain
//   grouped path is a slow gemm) with their operands reordered at the call's edges;
// - inference: a fused convolution runs in nChw16c (float32, bf16) or NHWC (int8) where oneDNN has
//   a real kernel for it, else in the layout oneDNN prefers; its output stays in that layout (a
//   numbered layout, 0 = plain NCHW) for the next fused convolution, max pooling or global average
//   pooling (layout.cc's globalAvgPoolStored reads it in place), and any other reader gets it
//   reordered to NCHW. The float32 stem reads the image as plain NCHW. Our grouped
//   kernels (grouped_direct.h) are built for the first choices: nChw16c (float32, bf16), NHWC (int8).
#pragma once
#include <cstdint>
#include <vector>
#include <oneapi/dnnl/dnnl.hpp>

#include "kernels.h"

namespace resnext {

// Whether a oneDNN implementation name is a real kernel (not its gemm or reference fallback).
bool fastKernel(const char* impl);

// Training: whether this convolution runs through the NHWC kernels (grouped convs, unless turned off).
bool trainsInNhwc(const ConvGeometry& g);
void setGroupedTrainingNhwc(bool on);

// Inference: the activation layouts to try for a fused convolution (int8 or not), best first.
const std::vector<dnnl::memory::format_tag>& inferenceActivationTags(bool int8);
// Inference: the layout a fused convolution trying `activations` reads its input in (the same,
// except float32 inputs of fewer channels than a block: the image, read as the plain NCHW it is).
dnnl::memory::format_tag inferenceInputTag(dnnl::memory::format_tag activations, bool float32, int64_t channels);

// Copies src (laid out as `from`) into dst (laid out as `to`) with a oneDNN reorder, each value
// multiplied by `scale` (converting data types as the descriptors say: rounding to nearest even,
// saturating to the integer types).
void reorderInto(const dnnl::memory::desc& from, const void* src, const dnnl::memory::desc& to, void* dst, float scale = 1.0f);
// src (laid out as `from`) as a pointer laid out as `to` (values times `scale`): src itself when
// they match and the scale is 1, else reordered into buf.
const float* inLayout(const dnnl::memory::desc& from, const float* src, const dnnl::memory::desc& to, std::vector<float>& buf,
                      float scale = 1.0f);
// float32 elements that hold a buffer of `d` (bf16 and int8 buffers are Float32Arrays too).
int64_t floatElements(const dnnl::memory::desc& d);

// An inference activation as stored: its descriptor (layout and data type) and, for int8, the real
// value of one integer step (1 otherwise).
struct StoredLayout {
  dnnl::memory::desc desc;
  float scale = 1.0f;
};
// The numbered layouts of inference activations: 0 is plain float32 NCHW, n > 0 the n-th other
// (descriptor, scale) seen.
int layoutId(const dnnl::memory::desc& d, float scale = 1.0f);
// The stored layout `layout` for a tensor of `dims` (an error if the layout is unknown or of other dims).
StoredLayout layoutDesc(int layout, const dnnl::memory::dims& dims);

}  // namespace resnext
