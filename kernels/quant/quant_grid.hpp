// The scalar arithmetic of one quantization grid (INT b-bit or FP8 E4M3): scale and
// zero point from a min/max pair, and the quantize / dequantize of one value, with
// the same fp32 operations, in the same order, as compressed-tensors.
//
// reference: compressed-tensors quantization/utils/helpers.py (calculate_qparams,
// calculate_range) and quantization/lifecycle/forward.py (_quantize, _dequantize).
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>

#include "kernels/quant/fp8_e4m3.hpp"
#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant {

/// Scale and zero point of one quantization group, as fp32 (the zero point holds an integer).
struct ScalarQParams {
  float scale = 1.0f;
  float zero_point = 0.0f;
};

/// Range and type of the quantized values. Float means FP8 E4M3 (±448); its codes are
/// E4M3 bit patterns. Int codes are the integers themselves.
struct QuantGrid {
  bool is_float = false;
  bool symmetric = true;
  float q_min = -128.0f;
  float q_max = 127.0f;
  float bit_range = 255.0f;       // q_max − q_min
  float half_bit_range = 127.5f;  // bit_range / 2: the symmetric divisor (INT4 7.5, INT8 127.5, FP8 448)

  /// The grid of `args` (type, bits, symmetry). Throws QuantConfigError for asymmetric FP8.
  static QuantGrid from_args(const QuantizationArgs& args);

  /// calculate_qparams for one group: 0 is forced into [min, max]; symmetric
  /// scale = absmax / (bit_range/2), zero point 0; asymmetric scale = (max−min)/bit_range,
  /// zero point = round(clamp(q_min − min/scale, q_min, q_max)). A zero scale becomes
  /// fp32 eps; the zero point of an all-zero asymmetric group (0/0) is 0.
  ScalarQParams qparams(float min_value, float max_value) const {
    min_value = std::min(min_value, 0.0f);
    max_value = std::max(max_value, 0.0f);
    ScalarQParams result;
    if (symmetric) {
      const float absmax = std::max(std::fabs(min_value), std::fabs(max_value));
      result.scale = absmax / half_bit_range;
    } else {
      result.scale = (max_value - min_value) / bit_range;
      float zero_point = q_min - min_value / result.scale;
      if (std::isnan(zero_point)) {
        zero_point = 0.0f;
      } else {
        zero_point = std::nearbyint(std::clamp(zero_point, q_min, q_max));
      }
      result.zero_point = zero_point;
    }
    if (result.scale == 0.0f) result.scale = FLT_EPSILON;
    return result;
  }

  /// Quantize one value: Int → round_half_even(clamp(x/scale + zp, q_min, q_max));
  /// Float → E4M3 bits of clamp(x/scale + zp, ±448).
  int32_t code(float value, float scale, float zero_point) const {
    float scaled = value / scale;
    scaled += zero_point;
    scaled = std::clamp(scaled, q_min, q_max);
    if (is_float) return fp8_e4m3_from_float(scaled);
    return static_cast<int32_t>(std::nearbyint(scaled));
  }

  /// Dequantize one code: (q − zp) · scale.
  float value(int32_t code, float scale, float zero_point) const {
    const float q = is_float ? fp8_e4m3_to_float(static_cast<uint8_t>(code)) : static_cast<float>(code);
    return (q - zero_point) * scale;
  }
};

}  // namespace dcomp::quant
