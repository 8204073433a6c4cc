// reference: compressed-tensors quantization/utils/helpers.py (calculate_range, generate_gparam),
// quantization/utils/mxfp_utils.py (round_to_power_2, generate_mx_scales).
#include "kernels/quant/quant_grid.hpp"

#include <cstring>

namespace dcomp::quant {

float fp4_global_scale(float absmax, FloatDType dtype) {
  absmax = std::max(round_to(dtype, absmax), smallest_normal_of(dtype));  // upstream clamps to finfo.tiny
  // `2688.0 / tensor` is torch's __rtruediv__: the reciprocal, then the product, each rounded
  // (to the statistics' dtype).
  const float reciprocal = round_to(dtype, 1.0f / absmax);
  const float scale = round_to(dtype, reciprocal * (kFp8E4m3Max * kFp4E2m1Max));
  return std::isfinite(scale) ? scale : 1.0f;
}

uint8_t mx_scale_exponent(float absmax, int element_max_exponent) {
  // round_to_power_2 on the fp32 bits: adding 2^21 carries into the exponent when the top two
  // mantissa bits are set (mantissa >= 1.5); masking keeps sign and exponent.
  uint32_t bits;
  std::memcpy(&bits, &absmax, sizeof bits);
  bits = (bits + (1u << 21)) & 0xFF800000u;
  const int exponent_field = static_cast<int>((bits >> 23) & 0xFFu);
  if (exponent_field == 0) return 0;  // zero (or a subnormal absmax): log2 is -inf, clamped to 0
  const int exponent = 127 + (exponent_field - 127) - element_max_exponent;
  return static_cast<uint8_t>(std::clamp(exponent, 0, 255));
}

QuantGrid QuantGrid::from_args(const QuantizationArgs& args) {
  QuantGrid grid;
  grid.element = args.element_format();
  grid.symmetric = args.symmetric;
  grid.scale_dtype = args.scale_dtype;
  grid.dtype = args.model_dtype;
  grid.input_dtype = args.model_dtype;
  if (grid.traits().is_float && !grid.symmetric) {
    throw QuantConfigError("quantization args: asymmetric float quantization (type float, symmetric false) is not "
                           "supported");
  }
  grid.q_min = static_cast<float>(args.q_min());
  grid.q_max = static_cast<float>(args.q_max());
  grid.bit_range = grid.q_max - grid.q_min;
  grid.half_bit_range = static_cast<float>(static_cast<double>(grid.bit_range) / 2.0);
  return grid;
}

}  // namespace dcomp::quant
