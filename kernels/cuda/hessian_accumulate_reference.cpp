// The CPU reference of accumulate_hessian: H += 2·XᵀX with fp64 products and sums
// (fp32 × fp32 products are exact in fp64), independent of cuBLAS.
//
// reference: llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py (accumulate_hessian).
#include <cmath>
#include <vector>

#include "kernels/cuda/hessian_accumulate.hpp"

namespace dcomp::gpu {

void accumulate_hessian_reference(const float* x, int64_t tokens, int64_t in_features, double* sum, double* abs_sum,
                                  double* square_sum) {
  const int64_t n = in_features;
  std::vector<double> row(static_cast<size_t>(n));
  // Upper triangle first (j ≥ i), token by token; then mirrored.
  std::vector<double> s(static_cast<size_t>(n * n), 0.0);
  std::vector<double> a(abs_sum ? static_cast<size_t>(n * n) : 0, 0.0);
  std::vector<double> q(square_sum ? static_cast<size_t>(n * n) : 0, 0.0);
  for (int64_t k = 0; k < tokens; ++k) {
    for (int64_t i = 0; i < n; ++i) row[static_cast<size_t>(i)] = static_cast<double>(x[k * n + i]);
    for (int64_t i = 0; i < n; ++i) {
      const double xi = 2.0 * row[static_cast<size_t>(i)];
      double* s_row = s.data() + i * n;
      for (int64_t j = i; j < n; ++j) s_row[j] += xi * row[static_cast<size_t>(j)];
      if (abs_sum) {
        double* a_row = a.data() + i * n;
        for (int64_t j = i; j < n; ++j) a_row[j] += std::fabs(xi * row[static_cast<size_t>(j)]);
      }
      if (square_sum) {
        double* q_row = q.data() + i * n;
        for (int64_t j = i; j < n; ++j) {
          const double p = xi * row[static_cast<size_t>(j)];
          q_row[j] += p * p;
        }
      }
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = i; j < n; ++j) {
      const size_t upper = static_cast<size_t>(i * n + j);
      sum[i * n + j] += s[upper];
      if (j != i) sum[j * n + i] += s[upper];
      if (abs_sum) {
        abs_sum[i * n + j] += a[upper];
        if (j != i) abs_sum[j * n + i] += a[upper];
      }
      if (square_sum) {
        square_sum[i * n + j] += q[upper];
        if (j != i) square_sum[j * n + i] += q[upper];
      }
    }
  }
}

}  // namespace dcomp::gpu
