// The statistics a calibration pass gathers of one Linear input, computed the slow way:
// one token row at a time, in plain C++ doubles, with no ATen reduction or GEMM.
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace dcomp::pipeline::testing {

/// Σ 2·xᵀx [in, in] fp64, per-channel min / max [in] fp32, Σ|x| [in] fp64, the token count.
struct BruteForceStatistics {
  at::Tensor hessian_sum;
  at::Tensor channel_min;
  at::Tensor channel_max;
  at::Tensor channel_abs_sum;
  int64_t tokens = 0;
};

/// Over every row of every tensor in `batches` (each [..., in] fp32), one token at a time.
inline BruteForceStatistics brute_force_statistics(const std::vector<at::Tensor>& batches, int64_t in) {
  std::vector<double> hessian(static_cast<size_t>(in * in), 0.0), abs_sum(static_cast<size_t>(in), 0.0);
  std::vector<float> lo(static_cast<size_t>(in), std::numeric_limits<float>::infinity());
  std::vector<float> hi(static_cast<size_t>(in), -std::numeric_limits<float>::infinity());
  int64_t tokens = 0;
  for (const at::Tensor& batch : batches) {
    const at::Tensor rows = batch.reshape({-1, in}).to(at::kFloat).contiguous();  // [tokens, in] fp32
    const auto x = rows.accessor<float, 2>();
    for (int64_t t = 0; t < rows.size(0); ++t, ++tokens) {
      for (int64_t i = 0; i < in; ++i) {
        const size_t channel = static_cast<size_t>(i);
        lo[channel] = std::min(lo[channel], x[t][i]);
        hi[channel] = std::max(hi[channel], x[t][i]);
        abs_sum[channel] += std::fabs(static_cast<double>(x[t][i]));
        for (int64_t j = 0; j < in; ++j) {
          hessian[static_cast<size_t>(i * in + j)] += 2.0 * static_cast<double>(x[t][i]) * static_cast<double>(x[t][j]);
        }
      }
    }
  }
  const auto doubles = at::TensorOptions().dtype(at::kDouble);
  const auto floats = at::TensorOptions().dtype(at::kFloat);
  return {at::from_blob(hessian.data(), {in, in}, doubles).clone(), at::from_blob(lo.data(), {in}, floats).clone(),
          at::from_blob(hi.data(), {in}, floats).clone(), at::from_blob(abs_sum.data(), {in}, doubles).clone(), tokens};
}

/// max |a − b| / max |b|: the error relative to the reference's largest entry.
inline double relative_difference(const at::Tensor& actual, const at::Tensor& reference) {
  const at::Tensor a = actual.to(at::kDouble), b = reference.to(at::kDouble);
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-300);
}

}  // namespace dcomp::pipeline::testing
