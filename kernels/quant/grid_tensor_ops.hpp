// QuantGrid (quant_grid.hpp) applied to whole tensors with ATen operations, on whatever
// device the tensors live on: the code and the dequantized value of every element, with
// the operations of QuantGrid::code and QuantGrid::value in the same order (each result
// rounded to the grid's quotient and scale dtypes on a BF16 / F16 model), so a CPU
// tensor gives bit for bit the codes of the scalar functions (and of the AVX-512 GPTQ
// loop), and a GPU the same wherever its fp32 division is IEEE (CUDA's default).
//
// The E4M3 and E2M1 roundings are written with integer and comparison operations on the
// fp32 bits instead of a float8 dtype (LibTorch 1.13 has none), as fp8_e4m3_from_float and
// fp4_e2m1_from_float do them.
//
// reference: compressed-tensors quantization/lifecycle/forward.py (_quantize, _dequantize);
// quantization/utils/fp4_utils.py (cast_to_fp4); arXiv 2209.05433 table 1 (E4M3).
#pragma once

#include <ATen/core/Tensor.h>

#include "kernels/quant/quant_grid.hpp"

namespace dcomp::quant {

/// The rounding of a tensor onto a grid.
struct GridRounding {
  at::Tensor codes;   // fp32, the shape of the input: Int → the integer; FP8 → the E4M3 bits 0..255; FP4 → 0..15
  at::Tensor values;  // fp32, the dequantized values (code − zp)·scale, as QuantGrid::value
};

/// x, scale and zero_point: fp32 tensors of one shape (or broadcastable to x's), on one
/// device. scale is the effective scale (for NVFP4 the group scale over the global scale);
/// zero_point holds integers (ignored by FP4).
GridRounding round_to_grid(const QuantGrid& grid, const at::Tensor& x, const at::Tensor& scale,
                           const at::Tensor& zero_point);

/// A rounding onto a small float grid (E4M3 or E2M1): the codes and the values they stand for.
struct FloatCodeRounding {
  at::Tensor bits;    // int32: E4M3 bit patterns 0..255, or E2M1 codes 0..15
  at::Tensor values;  // fp32, exact
};

/// E4M3FN rounding of fp32 values already within ±448, as fp8_e4m3_from_float /
/// fp8_e4m3_to_float.
FloatCodeRounding round_to_fp8_e4m3(const at::Tensor& clamped);

/// E2M1 rounding of fp32 values already within ±6: the codes (int32 0..15) and their values
/// (fp32; code 8 is −0), as fp4_e2m1_from_float / fp4_e2m1_to_float.
FloatCodeRounding round_to_fp4_e2m1(const at::Tensor& clamped);

}  // namespace dcomp::quant
