// The scalar arithmetic of one quantization grid (INT b-bit, FP8 E4M3 or FP4 E2M1): scale
// and zero point from a min/max pair (with the FP8 group scales of NVFP4 and the
// power-of-two scales of MX), and the quantize / dequantize of one value, with the same
// operations, in the same order, as compressed-tensors.
//
// On a BF16 (F16) model compressed-tensors' tensors are BF16: the observed min / max, the
// scales and zero points (kept in the weight's dtype) and the weight the compressor quantizes.
// Each torch operation on them is evaluated in fp32 and rounded to BF16, unless an FP32 tensor
// takes part (NVFP4's global scale, GPTQ's fp32 working columns), which promotes the result to
// FP32. QuantGrid rounds the same steps (float_dtype.hpp); on an FP32 model nothing is rounded.
//
// reference: compressed-tensors quantization/utils/helpers.py (calculate_qparams,
// calculate_range, generate_gparam), quantization/utils/mxfp_utils.py (round_to_power_2,
// generate_mx_scales, maybe_convert_from_mx_exp) and quantization/lifecycle/forward.py
// (_quantize, _dequantize).
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>

#include "kernels/quant/element_formats.hpp"
#include "kernels/quant/float_dtype.hpp"
#include "kernels/quant/fp4_e2m1.hpp"
#include "kernels/quant/fp8_e4m3.hpp"
#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant {

/// Scale and zero point of one quantization group, as fp32 (the zero point holds an integer).
struct ScalarQParams {
  float scale = 1.0f;
  float zero_point = 0.0f;
};

/// The global scale of a tensor (or of the fused tensors sharing one, e.g. q/k/v) whose group
/// scales are FP8: 448·6 / absmax (as fl(fl(1/absmax)·2688), the way torch evaluates
/// `2688.0 / tensor`), 1 where that is not finite (an all-zero tensor). `dtype` is the model's:
/// absmax is a value of it and each step is rounded to it (generate_gparam on BF16 statistics;
/// the result is then stored as FP32).
float fp4_global_scale(float absmax, FloatDType dtype = FloatDType::F32);

/// The E8M0 exponent (0..255, bias 127) of an MX group whose largest magnitude is `absmax`:
/// absmax rounded to a power of two (up when its mantissa is at least 1.5), minus the largest
/// exponent of the element format (`element_max_exponent`: E2M1 2, E4M3 8), clamped to
/// [0, 255]; an all-zero group gets 0.
uint8_t mx_scale_exponent(float absmax, int element_max_exponent);

/// Range and element format of the quantized values: FP8 E4M3 (±448; codes are E4M3 bit
/// patterns), FP4 E2M1 (±6; codes 0..15, see fp4_e2m1.hpp) or INT (codes are the integers
/// themselves). The table in element_formats.hpp has the format's traits.
struct QuantGrid {
  ElementFormat element = ElementFormat::Int;
  bool symmetric = true;
  ScaleDType scale_dtype = ScaleDType::Native;  // how qparams() rounds the scales
  /// The model dtype (QuantizationArgs::model_dtype): the observed ranges, scales and zero
  /// points are values of it and qparams() rounds each step to it.
  FloatDType dtype = FloatDType::F32;
  /// The dtype of the values code() quantizes: the model dtype for a stored weight or activation
  /// (what compressed-tensors' compressor quantizes), FP32 for GPTQ's working columns.
  FloatDType input_dtype = FloatDType::F32;
  float q_min = -128.0f;
  float q_max = 127.0f;
  float bit_range = 255.0f;       // q_max − q_min
  float half_bit_range = 127.5f;  // bit_range / 2: the symmetric divisor (INT4 7.5, INT8 127.5, FP8 448)

  /// The grid of `args` (type, bits, symmetry, model dtype, also the input dtype). Throws
  /// QuantConfigError for asymmetric float formats.
  static QuantGrid from_args(const QuantizationArgs& args);

  const ElementFormatTraits& traits() const { return element_format_traits(element); }

  /// The dtype of the scale code() divides by and value() multiplies by: the model dtype, but
  /// FP32 for NVFP4, whose FP8 group scale is divided by the FP32 global scale first.
  FloatDType scale_value_dtype() const { return scale_dtype == ScaleDType::Fp8E4m3 ? FloatDType::F32 : dtype; }
  /// The dtype of x / scale (and of adding the zero point to it): torch keeps BF16 only when
  /// both are BF16; an FP32 operand makes it FP32.
  FloatDType quotient_dtype() const {
    return input_dtype == scale_value_dtype() ? input_dtype : FloatDType::F32;
  }

  /// calculate_qparams for one group: 0 is forced into [min, max]; symmetric
  /// scale = absmax / (bit_range/2), zero point 0; asymmetric scale = (max−min)/bit_range,
  /// zero point = round(clamp(q_min − min/scale, q_min, q_max)). A zero scale becomes
  /// the model dtype's eps; the zero point of an all-zero asymmetric group (0/0) is 0.
  /// Fp8E4m3 scales: the scale times `global_scale` (when it is not 0), clamped to ±448 and
  /// rounded to FP8; a zero becomes 0.125. E8M0 scales: 2^(mx_scale_exponent(absmax) − 127).
  /// min, max and every step before the FP32 global scale are rounded to the model dtype.
  ScalarQParams qparams(float min_value, float max_value, float global_scale = 0.0f) const {
    min_value = std::min(round_to(dtype, min_value), 0.0f);
    max_value = std::max(round_to(dtype, max_value), 0.0f);
    ScalarQParams result;
    if (symmetric) {
      const float absmax = std::max(std::fabs(min_value), std::fabs(max_value));
      if (scale_dtype == ScaleDType::E8M0) {
        const int exponent = mx_scale_exponent(absmax, traits().max_exponent);
        result.scale = std::ldexp(1.0f, exponent - 127);
        return result;  // never zero
      }
      result.scale = round_to(dtype, absmax / half_bit_range);
      if (global_scale != 0.0f) result.scale = global_scale * result.scale;  // FP32, as the global scale
      if (scale_dtype == ScaleDType::Fp8E4m3) {
        result.scale = fp8_e4m3_to_float(fp8_e4m3_from_float(std::clamp(result.scale, -kFp8E4m3Max, kFp8E4m3Max)));
        if (result.scale == 0.0f) result.scale = 0.125f;  // the eps compressed-tensors uses for FP8 scales
        return result;
      }
    } else {
      result.scale = round_to(dtype, round_to(dtype, max_value - min_value) / bit_range);
      float zero_point = round_to(dtype, q_min - round_to(dtype, min_value / result.scale));
      if (std::isnan(zero_point)) {
        zero_point = 0.0f;
      } else {
        zero_point = std::nearbyint(std::clamp(zero_point, q_min, q_max));
      }
      result.zero_point = zero_point;
    }
    if (result.scale == 0.0f) result.scale = epsilon_of(dtype);
    return result;
  }

  /// Quantize one value: Int → round_half_even(clamp(x/scale + zp, q_min, q_max));
  /// FP8 → E4M3 bits of clamp(x/scale + zp, ±448); FP4 → the E2M1 code of clamp(x/scale, ±6)
  /// (no zero point: adding 0 would turn −0 into +0, a sign upstream's FP4 rounding keeps).
  /// `scale` is the effective scale (for NVFP4 the group scale divided by the global scale).
  /// x/scale and the sum are rounded to quotient_dtype(). The element format is tested per
  /// value (an enum); the codecs inline.
  int32_t code(float value, float scale, float zero_point) const {
    const FloatDType quotient = quotient_dtype();
    float scaled = round_to(quotient, value / scale);
    if (element == ElementFormat::Fp4E2m1) return fp4_e2m1_from_float(std::clamp(scaled, q_min, q_max));
    scaled = std::clamp(round_to(quotient, scaled + zero_point), q_min, q_max);
    if (element == ElementFormat::Fp8E4m3) return fp8_e4m3_from_float(scaled);
    return static_cast<int32_t>(std::nearbyint(scaled));
  }

  /// Dequantize one code: (q − zp) · scale, each step rounded to the scale's dtype
  /// (scale_value_dtype(): compressed-tensors casts the code to it first); FP4 has no zero point.
  float value(int32_t code, float scale, float zero_point) const {
    const FloatDType product = scale_value_dtype();
    float q = static_cast<float>(code);
    switch (element) {
      case ElementFormat::Fp4E2m1: return round_to(product, fp4_e2m1_to_float(static_cast<uint8_t>(code)) * scale);
      case ElementFormat::Fp8E4m3: q = fp8_e4m3_to_float(static_cast<uint8_t>(code)); break;
      case ElementFormat::Int: break;
    }
    return round_to(product, round_to(product, q - zero_point) * scale);
  }
};

}  // namespace dcomp::quant
