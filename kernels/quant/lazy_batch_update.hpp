// The generic column loop (SparseGPT's; GPTQ runs the vectorized gptq_solve.hpp with
// the same arithmetic): each column of W is replaced (by its quantized value, or 0
// when pruned) in order, and the error, scaled by the inverse Hessian factor, is
// pushed onto the columns still to come. Updates inside a block of columns are applied
// at once per row (the rows are independent, so they run in parallel over raw row
// pointers); the rest of the matrix receives one GEMM per block.
//
// reference: Frantar et al., "GPTQ" (arXiv 2210.17323), §3 "Lazy Batch-Updates"
// and Algorithm 1; llm-compressor modifiers/gptq/gptq_quantize.py (the block loop);
// Frantar & Alistarh, "SparseGPT" (arXiv 2301.00774), Algorithm 1.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

namespace dcomp::quant {

/// work: [rows, n] fp32 contiguous, updated in place; on return column j holds the
/// value chosen for it. hinv_upper: [n, n] fp32 upper factor U (UᵀU = H⁻¹), any
/// strides (a column-major factor is copied to rows once).
///
/// For each block [i1, i2) of `block_size` columns:
///  - before_block(i1, i2) runs once the block's columns hold all updates from earlier
///    blocks (it may read `work`, e.g. to choose a pruning mask for the block);
///  - for every row, in column order i = i1 … i2−1:
///      q = replace(row, i, i − i1, block_row)  where block_row = &work[row, i1], so the
///          value being replaced is block_row[i − i1] and the later columns of the
///          block (already updated for every earlier column) follow it;
///      err = (w − q) / U[i, i];  block_row[j] −= err·U[i, j] for i < j < i2;
///    rows run in parallel, so `replace` must only touch its own row's state;
///  - work[:, i2:] −= Err · U[i1:i2, i2:] (one GEMM: 2·rows·(i2−i1)·(n−i2) FLOPs).
///
/// Returns the upstream loss Σ (w − q)² / U[i,i]² / 2 over all rows and columns.
template <typename BeforeBlock, typename Replace>
double lazy_batch_update(at::Tensor& work, const at::Tensor& hinv_upper, int64_t block_size,
                         BeforeBlock&& before_block, Replace&& replace) {
  TORCH_CHECK(work.is_contiguous(), "lazy_batch_update: the work matrix must be contiguous");
  const at::Tensor u_rows = hinv_upper.contiguous();  // [n, n] fp32 row-major U
  const int64_t rows = work.size(0);
  const int64_t n = work.size(1);
  float* w = work.data_ptr<float>();
  const float* u = u_rows.data_ptr<float>();
  const int64_t err_stride = std::min(block_size, n);
  at::Tensor err = at::empty({rows, err_stride}, at::kFloat);  // [rows, block]: scaled errors of one block
  float* e = err.data_ptr<float>();
  std::vector<double> row_loss(static_cast<size_t>(rows), 0.0);
  constexpr int64_t kRowGrain = 16;

  for (int64_t i1 = 0; i1 < n; i1 += block_size) {
    const int64_t i2 = std::min(i1 + block_size, n);
    const int64_t count = i2 - i1;
    before_block(i1, i2);
    at::parallel_for(0, rows, kRowGrain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        float* block_row = w + r * n + i1;
        float* err_row = e + r * err_stride;
        double loss = 0.0;
        for (int64_t i = 0; i < count; ++i) {
          const float value = block_row[i];
          const float q = replace(r, i1 + i, i, block_row);
          const float* u_row = u + (i1 + i) * n + i1;  // U[i1+i, i1:i2]
          const float d = u_row[i];
          const float diff = value - q;
          loss += static_cast<double>(diff * diff / (d * d));
          const float scaled = diff / d;
          for (int64_t j = i + 1; j < count; ++j) block_row[j] -= scaled * u_row[j];
          block_row[i] = q;
          err_row[i] = scaled;
        }
        row_loss[static_cast<size_t>(r)] += loss;
      }
    });
    if (i2 < n) {
      at::Tensor rest = work.narrow(1, i2, n - i2);
      rest.addmm_(err.narrow(1, 0, count), u_rows.narrow(0, i1, count).narrow(1, i2, n - i2), /*beta=*/1,
                  /*alpha=*/-1);
    }
  }
  double total = 0.0;
  for (const double loss : row_loss) total += loss;
  return total / 2.0;
}

}  // namespace dcomp::quant
