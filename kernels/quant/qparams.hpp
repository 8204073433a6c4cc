// Scales and zero points from observed ranges, and quantize / dequantize / fake-quantize
// of an [out, in] weight with them, for the Tensor, Channel, Group and Block strategies.
//
// reference: compressed-tensors quantization/utils/helpers.py (calculate_qparams) and
// quantization/lifecycle/forward.py (quantize, dequantize, fake_quantize).
#pragma once

#include <ATen/core/Tensor.h>

#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant {

/// Quantization parameters of one tensor.
struct QParams {
  at::Tensor scale;       // fp32: Tensor [1], Channel [out, 1], Group [out, n_groups], Block [n_row_blocks, n_col_blocks]
  at::Tensor zero_point;  // int32, same shape as scale; zeros when symmetric
};

/// calculate_qparams: min_vals / max_vals are fp32 of one shape (the qparam shape; a
/// 0-dim input gives shape [1]). See QuantGrid::qparams for the per-entry formula
/// (symmetric INT4 divides absmax by 7.5, INT8 by 127.5, FP8 by 448).
QParams compute_qparams(const at::Tensor& min_vals, const at::Tensor& max_vals, const QuantizationArgs& args);

/// w [out, in] fp32 → codes [out, in]: int8 integers (Int) or uint8 E4M3 bit patterns
/// (Float). `g_idx` (int [in], Group only) maps each column to its group.
/// Throws std::invalid_argument when shapes or dtypes do not match the strategy.
at::Tensor quantize_codes(const at::Tensor& w, const QParams& qparams, const QuantizationArgs& args,
                          const at::Tensor& g_idx = {});

/// codes [out, in] (int8 / uint8 as produced by quantize_codes) → fp32 (q − zp)·scale.
at::Tensor dequantize_codes(const at::Tensor& codes, const QParams& qparams, const QuantizationArgs& args,
                            const at::Tensor& g_idx = {});

/// dequantize_codes(quantize_codes(w)) in one pass: [out, in] fp32.
at::Tensor fake_quantize(const at::Tensor& w, const QParams& qparams, const QuantizationArgs& args,
                         const at::Tensor& g_idx = {});

}  // namespace dcomp::quant
