// FP8 E4M3FN (the "fn" variant: no infinities, one NaN pattern per sign) encoding
// and decoding of fp32 values: 1 sign bit, 4 exponent bits (bias 7), 3 mantissa bits.
// Largest finite magnitude 448 (0x7E), smallest normal 2^-6, subnormals m·2^-9.
//
// reference: "FP8 Formats for Deep Learning" (Micikevicius et al., arXiv 2209.05433),
// table 1 (E4M3); torch.float8_e4m3fn / c10::Float8_e4m3fn conversion (round to
// nearest even).
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <cmath>

#include <ATen/core/Tensor.h>

namespace dcomp::quant {

/// Largest finite E4M3FN magnitude.
inline constexpr float kFp8E4m3Max = 448.0f;
/// The canonical NaN bit pattern written for NaN inputs.
inline constexpr uint8_t kFp8E4m3NaN = 0x7F;

/// fp32 → E4M3FN bits, round to nearest with ties to even. Magnitudes above 448
/// (including infinities) saturate to ±448; subnormal results are rounded on the
/// 2^-9 grid; NaN gives 0x7F. The sign of zero is kept (−0 → 0x80).
inline uint8_t fp8_e4m3_from_float(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const uint8_t sign = static_cast<uint8_t>((bits >> 24) & 0x80u);
  const uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) return kFp8E4m3NaN;        // NaN
  if (magnitude >= 0x43E00000u) return sign | 0x7Eu;       // ≥ 448 (and ±inf): saturate
  if (magnitude < 0x3C800000u) {                           // below 2^-6: subnormal grid m·2^-9
    float abs_value;
    std::memcpy(&abs_value, &magnitude, sizeof abs_value);
    // Scaling by 2^9 is exact; nearbyint rounds half to even in the default mode.
    // A result of 8 is the smallest normal, whose bit pattern is also 0x08.
    const auto mantissa = static_cast<uint8_t>(std::nearbyint(abs_value * 512.0f));
    return sign | mantissa;
  }
  // Normal: keep 3 of the 23 mantissa bits, rounding half to even; a carry out of
  // the mantissa correctly increments the exponent. Rebias 127 → 7.
  const uint32_t lowest_kept_bit = (magnitude >> 20) & 1u;
  const uint32_t rounded = magnitude + 0x7FFFFu + lowest_kept_bit;
  return sign | static_cast<uint8_t>((rounded >> 20) - ((127u - 7u) << 3));
}

/// E4M3FN bits → fp32 (exact). 0x7F and 0xFF decode to NaN.
inline float fp8_e4m3_to_float(uint8_t code) {
  const uint32_t sign = static_cast<uint32_t>(code & 0x80u) << 24;
  const uint32_t exponent = (code >> 3) & 0x0Fu;
  const uint32_t mantissa = code & 0x07u;
  float result;
  if (exponent == 0x0Fu && mantissa == 0x07u) {
    result = std::numeric_limits<float>::quiet_NaN();
  } else if (exponent == 0) {
    result = static_cast<float>(mantissa) * (1.0f / 512.0f);  // m·2^-9, exact
  } else {
    const uint32_t fp32_bits = ((exponent + 120u) << 23) | (mantissa << 20);
    std::memcpy(&result, &fp32_bits, sizeof result);
  }
  uint32_t out_bits;
  std::memcpy(&out_bits, &result, sizeof out_bits);
  out_bits |= sign;
  std::memcpy(&result, &out_bits, sizeof result);
  return result;
}

/// values: any shape, fp32 → uint8 tensor of E4M3FN bit patterns, same shape.
at::Tensor encode_fp8_e4m3(const at::Tensor& values);

/// codes: any shape, uint8 E4M3FN bit patterns → fp32 tensor, same shape.
at::Tensor decode_fp8_e4m3(const at::Tensor& codes);

/// exponents: any shape, uint8 E8M0 (the MX and UE8M0 scale format: 2^(e − 127), no mantissa)
/// → fp32 powers of two, same shape. 255 (E8M0's NaN) is the caller's to refuse.
at::Tensor decode_e8m0(const at::Tensor& exponents);

}  // namespace dcomp::quant
