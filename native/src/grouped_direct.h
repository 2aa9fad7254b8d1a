// Our own kernels for the grouped 3x3 convolutions of ResNeXt's first stages, where oneDNN 2.6 is
// slow (grouped_direct.cc has the measurements): float32 and bf16 in groups of 4 or 8 channels (32x4d
// at 56² and 28²), read and written in nChw16c like the 1x1 convolutions around them; int8 in groups of 4,
// u8 NHWC in, with oneDNN's arithmetic exactly (reference/low-precision.ts).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels.h"

namespace resnext {

// Which of our kernels this build has: "float32" (AVX-512), "bf16" (AVX-512 BF16), "int8" (AVX-512 VNNI).
std::vector<std::string> directGroupedKernelsBuilt();
// Whether the direct kernel runs this fused convolution (float32 callers only): 3x3, stride 1,
// padding 1, no dilation, as many outputs as inputs in groups of 4 or 8, no residual, AVX-512 built in,
// and not switched off.
bool directGroupedConvApplies(const ConvGeometry& g, bool residual);
// RESNEXT_ONEDNN_GROUPED_CONV: leave these convolutions to oneDNN (for comparisons); before planning.
void setDirectGroupedConv(bool on);
// Floats of the kernel's packed weights.
int64_t directGroupedWeightElements(const ConvGeometry& g);
// GOIHW weights into the kernel's packing: per 16-channel block, [kh][kw][input of the group][16 outputs]
// (rounded to bf16 values for the bf16 kernel).
void directGroupedPackWeights(const ConvGeometry& g, const float* w, float* out, bool bf16);
// y = relu?(conv(x, w) + b), x and y in nChw16c.
void directGroupedConv(const ConvGeometry& g, const float* x, const float* packed, const float* b, bool relu, float* y);

// bf16 (AVX-512 BF16 built in): as above, activations bf16 in nChw16c, float32 sums, the output
// rounded to nearest even (reference/low-precision.ts).
bool directGroupedBf16Applies(const ConvGeometry& g, bool residual);
void directGroupedBf16Conv(const ConvGeometry& g, const uint16_t* x, const float* packed, const float* b, bool relu,
                           uint16_t* y);
// int8 (AVX-512 VNNI built in): as above but in groups of 4 only, channels a multiple of 64 and an
// unsigned input; the output u8 or s8, NHWC.
bool directGroupedInt8Applies(const ConvGeometry& g, bool residual, bool srcSigned);
// Bytes of the packed int8 weights (per 64 channels: [kh][kw][4 vectors][16 outputs][4 inputs]).
int64_t directGroupedInt8WeightBytes(const ConvGeometry& g);
// GOIHW integer weights (as floats) into the int8 packing.
void directGroupedInt8PackWeights(const ConvGeometry& g, const float* w, int8_t* out);
// The order the kernel reads per-channel values in (output channel of each lane): the int8 kernel
// takes its bias (in accumulator units) and output scales permuted by it.
int64_t directGroupedInt8Channel(int64_t lane);
// y = sat(rne(relu?((acc + biasAcc) · scale))), x u8 NHWC, y u8 or s8 NHWC.
void directGroupedInt8Conv(const ConvGeometry& g, const uint8_t* x, const int8_t* packed, const float* biasAcc,
                           const float* scale, bool relu, bool dstSigned, int8_t* y);

}  // namespace resnext
