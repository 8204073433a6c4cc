// sparsegpt_prune against an unblocked double-precision transcription of SparseGPT
// (IST-DASLab sparsegpt.py fasterprune without the lazy block update), the exact 2:4
// pattern, the unstructured fraction, and its output error against magnitude pruning.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <vector>

#include "kernels/quant/magnitude_prune.hpp"
#include "kernels/quant/sparsegpt.hpp"
#include "tests/quant/reference_linalg.hpp"

namespace dcomp::quant {
namespace {

using testing::correlated_inputs;
using testing::hessian_of;
using testing::Matrix;
using testing::output_error;

struct ReferencePrune {
  Matrix weight;
  std::vector<bool> pruned;  // [out·in]
  double loss = 0.0;
};

// Column by column in double: the unstructured mask is chosen when a block of
// `block_size` columns starts, from the current (updated) weights; the N:M mask when a
// group of M columns starts; pruned weights become 0 and their error is propagated.
ReferencePrune reference_sparsegpt(const at::Tensor& weight, const at::Tensor& hessian, const SparseGptOptions& o) {
  Matrix w = testing::to_matrix(weight);
  Matrix h = testing::to_matrix(hessian);
  const int64_t rows = w.rows;
  const int64_t n = w.cols;
  testing::mask_dead(h, w);
  const Matrix u = testing::upper_factor_of_damped_inverse(h, testing::damping_of(h, o.dampening_frac));
  auto saliency = [&](int64_t r, int64_t c) { return w(r, c) * w(r, c) / (u(c, c) * u(c, c)); };
  ReferencePrune out;
  out.pruned.assign(static_cast<size_t>(rows * n), false);
  for (int64_t i = 0; i < n; ++i) {
    if (o.prune_n == 0 && i % o.block_size == 0) {
      const int64_t end = std::min(i + o.block_size, n);
      std::vector<double> scores;
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = i; c < end; ++c) scores.push_back(saliency(r, c));
      }
      std::vector<double> sorted = scores;
      std::sort(sorted.begin(), sorted.end());
      const double threshold = sorted[static_cast<size_t>(static_cast<double>(sorted.size()) * o.sparsity)];
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = i; c < end; ++c) out.pruned[r * n + c] = saliency(r, c) <= threshold;
      }
    }
    if (o.prune_n != 0 && i % o.prune_m == 0) {
      for (int64_t r = 0; r < rows; ++r) {
        std::vector<int64_t> order(static_cast<size_t>(o.prune_m));
        for (int64_t j = 0; j < o.prune_m; ++j) order[j] = i + j;
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return saliency(r, a) < saliency(r, b); });
        for (int k = 0; k < o.prune_n; ++k) out.pruned[r * n + order[k]] = true;
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      const double q = out.pruned[r * n + i] ? 0.0 : w(r, i);
      const double diff = w(r, i) - q;
      out.loss += diff * diff / (u(i, i) * u(i, i)) / 2.0;
      const double err = diff / u(i, i);
      for (int64_t j = i + 1; j < n; ++j) w(r, j) -= err * u(i, j);
      w(r, i) = q;
    }
  }
  out.weight = w;
  return out;
}

void expect_matches_reference(const SparseGptOptions& options, uint64_t seed) {
  const at::Tensor x = correlated_inputs(96, 48, seed);
  at::manual_seed(seed);
  const at::Tensor w = at::randn({20, 48});
  const at::Tensor h = hessian_of(x);
  const SparseGptResult result = sparsegpt_prune(w, h, options);
  const ReferencePrune ref = reference_sparsegpt(w, h, options);
  const at::Tensor mask = result.mask.contiguous();
  int mask_differences = 0;
  for (int64_t i = 0; i < mask.numel(); ++i) mask_differences += (!mask.data_ptr<bool>()[i]) != ref.pruned[i];
  EXPECT_EQ(mask_differences, 0);
  EXPECT_LE((result.weight.to(at::kDouble) - testing::to_tensor(ref.weight)).abs().max().item<double>(), 1e-4);
  EXPECT_NEAR(result.loss, ref.loss, 1e-3 * ref.loss);
  EXPECT_TRUE(at::equal(result.weight.masked_select(result.mask.logical_not()), at::zeros({(~result.mask).sum().item<int64_t>()})));
}

TEST(SparseGpt, UnstructuredMatchesTheUnblockedReference) {
  SparseGptOptions options;
  options.sparsity = 0.5;
  options.block_size = 16;
  expect_matches_reference(options, 21);
  options.sparsity = 0.7;
  options.block_size = 20;  // last block is narrower
  expect_matches_reference(options, 22);
}

TEST(SparseGpt, TwoFourMatchesTheUnblockedReference) {
  SparseGptOptions options;
  options.prune_n = 2;
  options.prune_m = 4;
  options.block_size = 16;
  expect_matches_reference(options, 23);
}

TEST(SparseGpt, TwoFourPatternIsExact) {
  const at::Tensor x = correlated_inputs(256, 64, 31);
  at::manual_seed(32);
  const at::Tensor w = at::randn({32, 64});
  SparseGptOptions options;
  options.prune_n = 2;
  options.prune_m = 4;
  const SparseGptResult result = sparsegpt_prune(w, hessian_of(x), options);
  const at::Tensor kept_per_group = result.mask.reshape({32, 16, 4}).sum(2);
  EXPECT_TRUE(at::all(kept_per_group == 2).item<bool>());
  const at::Tensor zeros_per_group = result.weight.eq(0).reshape({32, 16, 4}).sum(2);
  EXPECT_TRUE(at::all(zeros_per_group >= 2).item<bool>());
}

TEST(SparseGpt, UnstructuredPrunesTheBlockFraction) {
  const at::Tensor x = correlated_inputs(256, 64, 41);
  at::manual_seed(42);
  const at::Tensor w = at::randn({32, 64});
  SparseGptOptions options;
  options.sparsity = 0.6;
  options.block_size = 32;
  const SparseGptResult result = sparsegpt_prune(w, hessian_of(x), options);
  for (int64_t block = 0; block < 2; ++block) {
    const int64_t pruned = (~result.mask.slice(1, block * 32, block * 32 + 32)).sum().item<int64_t>();
    // Upstream prunes every saliency ≤ the int(numel·sparsity)-th smallest: one more than the count.
    EXPECT_EQ(pruned, static_cast<int64_t>(32 * 32 * 0.6) + 1) << "block " << block;
  }
}

TEST(SparseGpt, OutputErrorIsBelowMagnitudePruning) {
  const at::Tensor x = correlated_inputs(1024, 128, 51);
  at::manual_seed(52);
  const at::Tensor w = at::randn({64, 128});
  SparseGptOptions options;
  options.prune_n = 2;
  options.prune_m = 4;
  const SparseGptResult result = sparsegpt_prune(w, hessian_of(x), options);
  const at::Tensor magnitude = w * magnitude_prune_mask(w, 2, 4);
  const double sparsegpt_error = output_error(w, result.weight, x);
  const double magnitude_error = output_error(w, magnitude, x);
  std::cout << "  ‖(W−W')Xᵀ‖ 2:4: SparseGPT " << sparsegpt_error << " vs magnitude " << magnitude_error << "\n";
  EXPECT_LT(sparsegpt_error, 0.9 * magnitude_error);
}

TEST(MagnitudePrune, KeepsTheLargestOfEachGroup) {
  const at::Tensor w = at::tensor(std::vector<float>{0.1f, -3, 2, 0.5f, 4, 4, -4, 1,  //
                                                     1, 1, 1, 1, -0.2f, 0.3f, -0.4f, 0.0f})
                           .reshape({2, 8});
  const at::Tensor mask = magnitude_prune_mask(w, 2, 4);
  // Ties (equal |w|) prune the lower column first.
  const std::vector<bool> expected{false, true, true, false, false, true, true, false,  //
                                   false, false, true, true, false, true, true, false};
  for (int64_t i = 0; i < 16; ++i) EXPECT_EQ(mask.reshape({-1})[i].item<bool>(), expected[i]) << i;
  EXPECT_THROW(magnitude_prune_mask(w, 2, 3), std::invalid_argument);
  EXPECT_THROW(magnitude_prune_mask(w, 4, 4), std::invalid_argument);
}

TEST(SparseGpt, RejectsBadOptions) {
  const at::Tensor w = at::randn({4, 16});
  SparseGptOptions options;
  options.sparsity = 1.0;
  EXPECT_THROW(sparsegpt_prune(w, at::eye(16), options), std::invalid_argument);
  options = SparseGptOptions{};
  options.prune_n = 2;
  options.prune_m = 4;
  options.block_size = 6;
  EXPECT_THROW(sparsegpt_prune(w, at::eye(16), options), std::invalid_argument);
  options.block_size = 8;
  EXPECT_THROW(sparsegpt_prune(w, at::eye(12), options), std::invalid_argument);
}

}  // namespace
}  // namespace dcomp::quant
