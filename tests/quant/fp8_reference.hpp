// The E4M3FN format written out from its definition (arXiv 2209.05433 table 1), slowly
// and independently of kernels/quant/fp8_e4m3.hpp: bias 7, subnormals m/8·2^-6,
// S.1111.111 = NaN, largest finite 448.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace dcomp::quant::testing {

/// Value of an E4M3FN code from the definition.
inline double fp8_definition_value(int code) {
  const int sign = (code >> 7) & 1;
  const int exponent = (code >> 3) & 0xF;
  const int mantissa = code & 0x7;
  if (exponent == 15 && mantissa == 7) return std::numeric_limits<double>::quiet_NaN();
  const double magnitude = exponent == 0 ? (mantissa / 8.0) * std::pow(2.0, -6)
                                         : (1.0 + mantissa / 8.0) * std::pow(2.0, exponent - 7);
  return sign ? -magnitude : magnitude;
}

/// Nearest code by exhaustive search over the 127 non-negative finite codes, ties to
/// the even code; magnitudes above 448 saturate; NaN → 0x7F.
inline uint8_t fp8_slow_encode(double value) {
  if (std::isnan(value)) return 0x7F;
  const int sign = std::signbit(value) ? 0x80 : 0;
  const double magnitude = std::min(std::fabs(value), 448.0);
  int best = 0;
  double best_distance = std::numeric_limits<double>::infinity();
  for (int code = 0; code <= 0x7E; ++code) {
    const double distance = std::fabs(fp8_definition_value(code) - magnitude);
    if (distance < best_distance || (distance == best_distance && (code & 1) == 0)) {
      best = code;
      best_distance = distance;
    }
  }
  return static_cast<uint8_t>(sign | best);
}

}  // namespace dcomp::quant::testing
