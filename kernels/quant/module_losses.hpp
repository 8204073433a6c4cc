// The GPTQ / SparseGPT loss of each module of a stacked solve, summed as the host loops sum it.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

namespace dcomp::quant {

/// row_loss: fp64 [E, rows] on any device, each row's Σ (w − q)² / U[i,i]² → per module that
/// sum over its rows, in row order on the host (as gptq_solve and lazy_batch_update add
/// them), halved.
inline std::vector<double> module_losses(const at::Tensor& row_loss) {
  const at::Tensor host = row_loss.to(at::kCPU).contiguous();
  const int64_t modules = host.size(0), rows = host.size(1);
  const double* loss = host.data_ptr<double>();
  std::vector<double> totals(static_cast<size_t>(modules), 0.0);
  for (int64_t e = 0; e < modules; ++e) {
    double total = 0.0;
    for (int64_t r = 0; r < rows; ++r) total += loss[e * rows + r];
    totals[static_cast<size_t>(e)] = total / 2.0;
  }
  return totals;
}

}  // namespace dcomp::quant
