// A brute-force E4M3FN reference for tests: every finite value enumerated from its bit pattern
// (OCP 8-bit FP spec: bias 7, subnormals m·2^-9, 0x7F NaN), and the grid point a value rounds to,
// toward zero or to the nearest (ties to the even code), saturating at 448.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace dcomp::ct {

// The non-negative finite E4M3FN values, ascending, decoded from the bits (0x7F is NaN).
inline std::vector<double> e4m3_magnitudes() {
  std::vector<double> values;
  for (int bits = 0; bits < 0x7F; ++bits) {
    const int exponent = bits >> 3, mantissa = bits & 7;
    values.push_back(exponent == 0 ? std::ldexp(mantissa, -9) : std::ldexp(8 + mantissa, exponent - 10));
  }
  return values;
}

inline double e4m3_reference(double x, bool toward_zero, const std::vector<double>& grid) {
  const double magnitude = std::min(std::fabs(x), 448.0);
  // grid[below] is the largest value not above the magnitude (grid[0] = 0)
  const size_t below = static_cast<size_t>(std::upper_bound(grid.begin(), grid.end(), magnitude) - grid.begin()) - 1;
  double chosen = grid[below];
  if (!toward_zero && chosen != magnitude && below + 1 < grid.size()) {
    const double down = magnitude - grid[below], up = grid[below + 1] - magnitude;
    if (up < down || (up == down && (below + 1) % 2 == 0)) chosen = grid[below + 1];  // even code on a tie
  }
  return std::copysign(chosen, x);
}

}  // namespace dcomp::ct
