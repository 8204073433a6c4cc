// reference: arXiv 2301.00774 Algorithm 1; IST-DASLab/sparsegpt sparsegpt.py (fasterprune);
// llm-compressor modifiers/pruning/sparsegpt/sgpt_sparsify.py (sparsify_weight).
#include "kernels/quant/sparsegpt.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "kernels/quant/inverse_hessian.hpp"
#include "kernels/quant/inverse_hessian_tensor.hpp"
#include "kernels/quant/lazy_batch_update.hpp"
#include "kernels/quant/sparsegpt_tensor_solve.hpp"

namespace dcomp::quant {

namespace {

void check_inputs(const at::Tensor& weight, const at::Tensor& hessian, const SparseGptOptions& options) {
  if (!weight.defined() || weight.dim() != 2 || weight.scalar_type() != at::kFloat || weight.numel() == 0) {
    throw std::invalid_argument("sparsegpt_prune: expected a non-empty fp32 weight [out, in]");
  }
  const int64_t in = weight.size(1);
  if (!hessian.defined() || hessian.dim() != 2 || hessian.size(0) != in || hessian.size(1) != in ||
      hessian.scalar_type() != at::kFloat) {
    throw std::invalid_argument("sparsegpt_prune: expected an fp32 Hessian [" + std::to_string(in) + ", " +
                                std::to_string(in) + "]");
  }
  if (options.block_size <= 0) throw std::invalid_argument("sparsegpt_prune: block_size must be positive");
  const bool structured = options.prune_n != 0 || options.prune_m != 0;
  if (structured) {
    if (options.prune_n <= 0 || options.prune_m <= options.prune_n) {
      throw std::invalid_argument("sparsegpt_prune: N:M structure needs 0 < N < M, got " +
                                  std::to_string(options.prune_n) + ":" + std::to_string(options.prune_m));
    }
    if (options.block_size % options.prune_m != 0 || in % options.prune_m != 0) {
      throw std::invalid_argument("sparsegpt_prune: M = " + std::to_string(options.prune_m) +
                                  " must divide block_size " + std::to_string(options.block_size) +
                                  " and the " + std::to_string(in) + " input columns");
    }
  } else if (!(options.sparsity >= 0.0 && options.sparsity < 1.0)) {
    throw std::invalid_argument("sparsegpt_prune: sparsity must be in [0, 1), got " + std::to_string(options.sparsity));
  }
  if (!at::isfinite(weight).all().item<bool>()) {
    throw std::invalid_argument("sparsegpt_prune: the weight contains NaN or infinite values");
  }
}

}  // namespace

SparseGptResult sparsegpt_prune(const at::Tensor& weight, const at::Tensor& hessian, const SparseGptOptions& options) {
  check_inputs(weight, hessian, options);
  const int64_t rows = weight.size(0);
  const int64_t columns = weight.size(1);
  at::Tensor w = weight.contiguous().clone();     // [out, in]
  at::Tensor h = hessian.contiguous().clone();    // [in, in]

  const at::Tensor dead = mask_dead_inputs(h);
  w.masked_fill_(dead.unsqueeze(0), 0.0f);
  InverseHessianFactor factor = inverse_hessian_factor(h, options.dampening_frac, options.max_damping_retries);
  h = at::Tensor();

  SparseGptResult result;
  result.damping = factor.damping;
  result.retries = factor.retries;
  result.fell_back_to_identity = factor.identity_fallback;

  const float* u = factor.upper.data_ptr<float>();
  const float* values = w.data_ptr<float>();
  at::Tensor pruned = at::zeros({rows, columns}, at::kBool);  // true = pruned
  bool* is_pruned = pruned.data_ptr<bool>();
  const bool structured = options.prune_n != 0;
  const int64_t prune_m = options.prune_m;
  const int64_t prune_n = options.prune_n;

  // Saliency of weight value x in column i: x² / Hinv[i,i]², in fp32 as upstream.
  auto saliency = [u, columns](float x, int64_t column) {
    const float d = u[column * columns + column];
    return (x * x) / (d * d);
  };

  // Unstructured: one threshold per block over its current (updated) values.
  auto choose_block_mask = [&](int64_t i1, int64_t i2) {
    if (structured) return;
    const int64_t count = i2 - i1;
    std::vector<float> scores(static_cast<size_t>(rows * count));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < count; ++c) scores[r * count + c] = saliency(values[r * columns + i1 + c], i1 + c);
    }
    const auto kth = static_cast<int64_t>(static_cast<double>(scores.size()) * options.sparsity);
    std::vector<float> sorted = scores;
    std::nth_element(sorted.begin(), sorted.begin() + kth, sorted.end());
    const float threshold = sorted[static_cast<size_t>(kth)];
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < count; ++c) is_pruned[r * columns + i1 + c] = scores[r * count + c] <= threshold;
    }
  };

  result.loss = lazy_batch_update(
      w, factor.upper, options.block_size, choose_block_mask,
      [&](int64_t row, int64_t column, int64_t in_block, const float* block_row) -> float {
        bool* row_pruned = is_pruned + row * columns;
        if (structured && in_block % prune_m == 0) {
          // The N smallest saliencies among the next M columns (ties to the lower column).
          for (int64_t k = 0; k < prune_n; ++k) {
            int64_t best = -1;
            float best_score = 0.0f;
            for (int64_t j = 0; j < prune_m; ++j) {
              if (row_pruned[column + j]) continue;
              const float score = saliency(block_row[in_block + j], column + j);
              if (best < 0 || score < best_score) {
                best = j;
                best_score = score;
              }
            }
            row_pruned[column + best] = true;
          }
        }
        return row_pruned[column] ? 0.0f : block_row[in_block];
      });

  result.weight = w;
  result.mask = pruned.logical_not();
  return result;
}

std::vector<SparseGptResult> sparsegpt_prune_batch(const std::vector<at::Tensor>& weights,
                                                   const std::vector<at::Tensor>& hessians,
                                                   const SparseGptOptions& options, c10::Device device) {
  if (weights.empty()) throw std::invalid_argument("sparsegpt_prune_batch: no weights");
  if (hessians.size() != 1 && hessians.size() != weights.size()) {
    throw std::invalid_argument("sparsegpt_prune_batch: expected one Hessian or one per weight, got " +
                                std::to_string(hessians.size()) + " for " + std::to_string(weights.size()));
  }
  for (size_t e = 0; e < weights.size(); ++e) {
    check_inputs(weights[e], hessians[hessians.size() == 1 ? 0 : e], options);
    if (weights[e].sizes() != weights.front().sizes()) {
      throw std::invalid_argument("sparsegpt_prune_batch: the weights must share one shape");
    }
  }
  const int64_t columns = weights.front().size(1);
  // Dead inputs masked and H⁻¹'s upper factor taken on the device, once per Hessian.
  std::vector<InverseHessianFactor> factors;
  std::vector<at::Tensor> dead(hessians.size());
  const at::Tensor identity = at::arange(columns, at::TensorOptions().dtype(at::kLong).device(device));
  for (size_t k = 0; k < hessians.size(); ++k) {
    factors.push_back(permuted_inverse_hessian_factor_tensor(hessians[k].to(device), identity, options.dampening_frac,
                                                             options.max_damping_retries, dead[k]));
  }
  at::Tensor work = at::stack(weights).to(device);  // [E, out, in] fp32, a copy
  std::vector<at::Tensor> uppers;
  for (size_t e = 0; e < weights.size(); ++e) {
    const size_t k = hessians.size() == 1 ? 0 : e;
    work.select(0, static_cast<int64_t>(e)).masked_fill_(dead[k].unsqueeze(0), 0.0f);
    if (hessians.size() > 1) uppers.push_back(factors[k].upper);
  }
  const at::Tensor upper = hessians.size() == 1 ? factors.front().upper : at::stack(uppers);
  const SparseGptTensorResult pruned = sparsegpt_prune_tensor(work, upper, options);
  const at::Tensor host_weights = pruned.weight.to(at::kCPU);
  const at::Tensor host_masks = pruned.mask.to(at::kCPU);
  std::vector<SparseGptResult> results(weights.size());
  for (size_t e = 0; e < weights.size(); ++e) {
    const InverseHessianFactor& factor = factors[hessians.size() == 1 ? 0 : e];
    results[e].weight = host_weights.select(0, static_cast<int64_t>(e)).contiguous();
    results[e].mask = host_masks.select(0, static_cast<int64_t>(e)).contiguous();
    results[e].loss = pruned.loss[e];
    results[e].damping = factor.damping;
    results[e].retries = factor.retries;
    results[e].fell_back_to_identity = factor.identity_fallback;
  }
  return results;
}

}  // namespace dcomp::quant
