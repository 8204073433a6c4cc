// float8_e4m3fn ("F8_E4M3" in safetensors): 1 sign bit, 4 exponent bits (bias 7),
// 3 mantissa bits, no infinities; the only NaN patterns are 0x7F and 0xFF; the largest
// finite magnitude is 448 (0x7E). LibTorch 1.13 has no float8 type, so the bytes are
// held in uint8 tensors and converted here.
//
// reference: Micikevicius et al., "FP8 Formats for Deep Learning" (arXiv 2209.05433),
// table 1 (E4M3); PyTorch c10/util/Float8_e4m3fn.h (round-to-nearest-even conversion).
#pragma once

#include <ATen/core/Tensor.h>

namespace dcomp::ct {

/// uint8 E4M3 bit patterns (any shape) → fp32 values of the same shape (NaN for 0x7F / 0xFF).
at::Tensor e4m3_to_float(const at::Tensor& bits);

/// fp32 values (any shape) → uint8 E4M3 bit patterns, rounded to nearest even. As in
/// PyTorch's .to(float8_e4m3fn), magnitudes beyond 464 (the midpoint past 448) and NaN
/// become NaN; callers clamp to ±448 first (as compressed-tensors does).
at::Tensor float_to_e4m3(const at::Tensor& values);

}  // namespace dcomp::ct
