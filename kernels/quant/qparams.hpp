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
  at::Tensor scale;       // fp32: Tensor [1], Channel [out, 1], Group / TensorGroup [out, n_groups], Block [n_row_blocks, n_col_blocks]
  at::Tensor zero_point;  // int32, same shape as scale; zeros when symmetric
  at::Tensor global_scale;  // fp32 [1], TensorGroup only (NVFP4): the effective scale is scale / global_scale

  /// The scale each code is multiplied by: scale, or scale / global_scale (fp32).
  at::Tensor effective_scale() const;
};

/// calculate_qparams: min_vals / max_vals are fp32 of one shape (the qparam shape; a
/// 0-dim input gives shape [1]). See QuantGrid::qparams for the per-entry formula
/// (symmetric INT4 divides absmax by 7.5, INT8 by 127.5, FP8 by 448, FP4 by 6, then the FP8
/// and E8M0 roundings), computed in args.model_dtype: on a BF16 model every scale and zero
/// point is a BF16 value (NVFP4's group scales FP8 values), the ones the checkpoint stores.
/// `global_scale` (fp32 [1]) is required for TensorGroup and is kept in the
/// result.
QParams compute_qparams(const at::Tensor& min_vals, const at::Tensor& max_vals, const QuantizationArgs& args,
                        const at::Tensor& global_scale = {});

/// The global scale of TensorGroup weights or activations (fp32 [1]) from the largest magnitude
/// over the tensors that share it, computed in the model dtype `dtype` (see fp4_global_scale).
at::Tensor global_scale_for_absmax(float absmax, FloatDType dtype = FloatDType::F32);

/// w [out, in] fp32 → codes [out, in]: int8 integers (Int), uint8 E4M3 bit patterns (FP8)
/// or uint8 E2M1 codes 0..15 (FP4). `g_idx` (int [in], Group only) maps each column to its group.
/// w holds values of args.model_dtype (a BF16 weight upcast): the codes are those
/// compressed-tensors' compressor gives the stored weight and scales (QuantGrid::code).
/// Throws std::invalid_argument when shapes or dtypes do not match the strategy.
at::Tensor quantize_codes(const at::Tensor& w, const QParams& qparams, const QuantizationArgs& args,
                          const at::Tensor& g_idx = {});

/// codes [out, in] (int8 / uint8 as produced by quantize_codes) → fp32 (q − zp)·scale, rounded
/// to the scale's dtype (QuantGrid::value).
at::Tensor dequantize_codes(const at::Tensor& codes, const QParams& qparams, const QuantizationArgs& args,
                            const at::Tensor& g_idx = {});

/// dequantize_codes(quantize_codes(w)) in one pass: [out, in] fp32.
at::Tensor fake_quantize(const at::Tensor& w, const QParams& qparams, const QuantizationArgs& args,
                         const at::Tensor& g_idx = {});

}  // namespace dcomp::quant
