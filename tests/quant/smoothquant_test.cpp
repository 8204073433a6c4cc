// SmoothQuant scales against a hand computation of s_j = range_j^α / (2·max|W[:, j]|)^(1−α).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "kernels/quant/smoothquant.hpp"

namespace dcomp::quant {
namespace {

TEST(SmoothQuant, ScalesFollowTheHandComputation) {
  const at::Tensor act_min = at::tensor(std::vector<float>{-1, -4, 0, 0});
  const at::Tensor act_max = at::tensor(std::vector<float>{3, 4, 0, 2});  // ranges 4, 8, 0, 2
  const at::Tensor w1 = at::tensor(std::vector<float>{1, -2, 0, 0, 0.5f, 1, 0, 0}).reshape({2, 4});
  const at::Tensor w2 = at::tensor(std::vector<float>{-3, 0.5f, 0, 0}).reshape({1, 4});
  // Column max |W| over both layers: 3, 2, 0, 0 → w = 6, 4, 0, 0.
  const at::Tensor half = smoothquant_scales(act_min, act_max, {w1, w2}, 0.5);
  const std::vector<double> expected_half{std::sqrt(4.0) / std::sqrt(6.0), std::sqrt(8.0) / std::sqrt(4.0),
                                          1e-5 /* w = 0 → range 0 → clamped */, 2.0 /* w = 0 → range */};
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(half[j].item<double>(), expected_half[j], 1e-6) << j;

  const at::Tensor strong = smoothquant_scales(act_min, act_max, {w1, w2}, 0.8);
  EXPECT_NEAR(strong[0].item<double>(), std::pow(4.0, 0.8) / std::pow(6.0, 0.2), 1e-5);
  EXPECT_NEAR(strong[1].item<double>(), std::pow(8.0, 0.8) / std::pow(4.0, 0.2), 1e-5);

  const at::Tensor log_eq = log_equalization_scales(act_min, act_max);
  EXPECT_NEAR(log_eq[0].item<double>(), 4.0 / std::log2(6.0), 1e-6);
  EXPECT_NEAR(log_eq[1].item<double>(), 8.0 / std::log2(10.0), 1e-6);
  EXPECT_NEAR(log_eq[2].item<double>(), 1e-5, 1e-12);

  EXPECT_THROW(smoothquant_scales(act_min, act_max, {}, 0.5), std::invalid_argument);
  EXPECT_THROW(smoothquant_scales(act_min, act_max, {at::randn({2, 3})}, 0.5), std::invalid_argument);
  EXPECT_THROW(smoothquant_scales(act_min, act_max, {w1}, 1.5), std::invalid_argument);
}

}  // namespace
}  // namespace dcomp::quant
