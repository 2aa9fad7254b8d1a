// Our own kernel for the grouped 3x3 convolutions of ResNeXt's first two stages in float32
// inference: groups of 4 or 8 channels (32x4d at 56² and 28²), read and written in nChw16c like the
// 1x1 convolutions around them. oneDNN 2.6 has no 16-channel-block kernel for such groups and runs
// them in nChw4c/nChw8c with a reorder on each side (grouped_direct.cc has the measurements).
#pragma once
#include <cstdint>

#include "kernels.h"

namespace resnext {

// Whether the direct kernel runs this fused convolution (float32 callers only): 3x3, stride 1,
// padding 1, no dilation, as many outputs as inputs in groups of 4 or 8, no residual, AVX-512 built in,
// and not switched off.
bool directGroupedConvApplies(const ConvGeometry& g, bool residual);
// RESNEXT_ONEDNN_GROUPED_CONV: leave these convolutions to oneDNN (for comparisons); before planning.
void setDirectGroupedConv(bool on);
// Floats of the kernel's packed weights.
int64_t directGroupedWeightElements(const ConvGeometry& g);
// GOIHW weights into the kernel's packing: per 16-channel block, [kh][kw][input of the group][16 outputs].
void directGroupedPackWeights(const ConvGeometry& g, const float* w, float* out);
// y = relu?(conv(x, w) + b), x and y in nChw16c.
void directGroupedConv(const ConvGeometry& g, const float* x, const float* packed, const float* b, bool relu, float* y);

}  // namespace resnext
