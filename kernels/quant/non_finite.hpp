// Finding NaN and infinite values in tensors before they are compressed or written. A
// weight, an observed activation range or a computed scale that is not finite turns into
// NaN scales or silently clamped codes downstream; the run refuses it instead, naming the
// tensor, how many values are bad and where the first one is.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace dcomp::quant {

/// A tensor the run refuses because it holds NaN or infinite values. The same input fails
/// the same way every time: an interrupted run's saved progress cannot get past it.
class NonFiniteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Where a tensor's NaN and infinite values are.
struct NonFiniteValues {
  int64_t count = 0;                // how many
  std::vector<int64_t> first_index;  // index of the first in row-major order, one entry per dimension
  double first_value = 0.0;          // NaN, +inf or -inf
};

/// nullopt when every value of `tensor` (any floating dtype, any shape, any device) is finite.
/// Integer and boolean tensors, and undefined or empty ones, are always finite. Needs no
/// temporary as large as the tensor unless a non-finite value is found.
std::optional<NonFiniteValues> find_non_finite(const at::Tensor& tensor);

/// "2 non-finite values (first at [17, 5]: inf)".
std::string describe(const NonFiniteValues& values);

/// Throws NonFiniteError "<what> holds <describe>; <consequence>" when `tensor` holds a NaN
/// or an infinity, e.g. require_finite(w, "model.layers.3.mlp.down_proj: weight",
/// "refusing to compress") → "model.layers.3.mlp.down_proj: weight holds 2 non-finite
/// values (first at [17, 5]: inf); refusing to compress".
void require_finite(const at::Tensor& tensor, const std::string& what, const std::string& consequence);

/// FP8 E4M3FN bit patterns (uint8): true when any is 0x7F or 0xFF, the format's only NaNs.
bool holds_fp8_nan(const at::Tensor& codes);

}  // namespace dcomp::quant
