// reference: llm-compressor modifiers/pruning/helpers.py (N:M mask from |W| scores).
#include "kernels/quant/magnitude_prune.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

namespace dcomp::quant {

at::Tensor magnitude_prune_mask(const at::Tensor& w, int n, int m) {
  if (!w.defined() || w.dim() != 2 || w.scalar_type() != at::kFloat) {
    throw std::invalid_argument("magnitude_prune_mask: expected an fp32 weight [out, in]");
  }
  if (n <= 0 || m <= n) {
    throw std::invalid_argument("magnitude_prune_mask: N:M structure needs 0 < N < M, got " + std::to_string(n) + ":" +
                                std::to_string(m));
  }
  const int64_t rows = w.size(0);
  const int64_t columns = w.size(1);
  if (columns % m != 0) {
    throw std::invalid_argument("magnitude_prune_mask: M = " + std::to_string(m) + " does not divide the " +
                                std::to_string(columns) + " input columns");
  }
  const at::Tensor input = w.contiguous();
  const float* x = input.data_ptr<float>();
  at::Tensor kept = at::ones({rows, columns}, at::kBool);
  bool* keep = kept.data_ptr<bool>();
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t g = 0; g < columns; g += m) {
        const int64_t base = r * columns + g;
        for (int k = 0; k < n; ++k) {
          int64_t smallest = -1;
          for (int64_t j = 0; j < m; ++j) {
            if (!keep[base + j]) continue;
            if (smallest < 0 || std::fabs(x[base + j]) < std::fabs(x[base + smallest])) smallest = j;
          }
          keep[base + smallest] = false;
        }
      }
    }
  });
  return kept;
}

}  // namespace dcomp::quant
