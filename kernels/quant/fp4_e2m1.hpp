// FP4 E2M1 values (1 sign bit, 2 exponent bits, 1 mantissa bit: ±{0, 0.5, 1, 1.5, 2, 3, 4, 6})
// and their 4-bit codes, as compressed-tensors rounds and packs them: the code is the sign
// bit (8) plus the index of the magnitude in that list, and two codes share a byte, the
// even column in the low nibble.
//
// Rounding is to the nearest value; the ties (0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5) go to the
// value with the even mantissa (0, 1, 1, 2, 2, 4, 4). A negative value that rounds to zero
// keeps its sign (code 8, −0); −0 itself becomes +0 (code 0), because upstream rounds
// |x| and multiplies by sign(x), which is 0 for −0.
//
// reference: compressed-tensors quantization/utils/fp4_utils.py (cast_to_fp4) and
// compressors/nvfp4/helpers.py (pack_fp4_to_uint8, unpack_fp4_from_uint8, kE2M1ToFloat);
// OCP Microscaling Formats (MX) v1.0 specification, section 5.3.3 (E2M1).
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace dcomp::quant {

/// Largest E2M1 magnitude.
inline constexpr float kFp4E2m1Max = 6.0f;

/// The magnitude of each 3-bit index.
inline constexpr float kFp4E2m1Magnitudes[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};

/// Code (0..15) of an fp32 value already clamped to [−6, 6], rounded as described above.
inline uint8_t fp4_e2m1_from_float(float value) {
  const uint8_t sign = value < 0.0f ? 8 : 0;
  const float m = value < 0.0f ? -value : value;
  uint8_t index;
  if (m <= 0.25f) {
    index = 0;
  } else if (m < 0.75f) {
    index = 1;
  } else if (m <= 1.25f) {
    index = 2;
  } else if (m < 1.75f) {
    index = 3;
  } else if (m <= 2.5f) {
    index = 4;
  } else if (m < 3.5f) {
    index = 5;
  } else if (m <= 5.0f) {
    index = 6;
  } else {
    index = 7;
  }
  return static_cast<uint8_t>(sign | index);
}

/// The value of a code (its low 4 bits); code 8 is −0.
inline float fp4_e2m1_to_float(uint8_t code) {
  const float magnitude = kFp4E2m1Magnitudes[code & 7];
  return (code & 8) != 0 ? -magnitude : magnitude;
}

/// codes uint8 [rows, cols] (values 0..15, cols even) → uint8 [rows, cols/2]: byte j of a row
/// holds column 2j in its low nibble and column 2j+1 in its high nibble. Throws
/// std::invalid_argument for another dtype or rank, an odd column count or a code above 15.
at::Tensor pack_fp4_codes(const at::Tensor& codes);

/// Inverse of pack_fp4_codes: uint8 [rows, cols/2] → uint8 codes [rows, cols].
at::Tensor unpack_fp4_codes(const at::Tensor& packed);

/// codes uint8 [rows, cols] → their fp32 values [rows, cols].
at::Tensor decode_fp4_e2m1(const at::Tensor& codes);

}  // namespace dcomp::quant
