// AWQ's search arithmetic against brute-force loops and the grids llm-compressor 0.14's
// _get_grid_search_params lists (written out here for small n_grid).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "lifecycle/modifiers/awq_scales.hpp"

namespace dcomp::lifecycle {
namespace {

std::vector<std::pair<double, bool>> as_pairs(const std::vector<AwqCandidate>& grid) {
  std::vector<std::pair<double, bool>> out;
  for (const auto& c : grid) out.emplace_back(c.ratio, c.duo);
  return out;
}

TEST(AwqScales, GridsAreUpstreamsLists) {
  // duo_scaling true, n_grid 5: [(0, False)] + [(i / 3, True) for i in range(4)]
  EXPECT_EQ(as_pairs(awq_grid(DuoScaling::On, 5)),
            (std::vector<std::pair<double, bool>>{{0.0, false}, {0.0, true}, {1.0 / 3, true}, {2.0 / 3, true}, {1.0, true}}));
  // duo_scaling false, n_grid 3: [(i / 2, False) for i in range(3)]
  EXPECT_EQ(as_pairs(awq_grid(DuoScaling::Off, 3)),
            (std::vector<std::pair<double, bool>>{{0.0, false}, {0.5, false}, {1.0, false}}));
  // "both", n_grid 6: m = 3, [(i / 2, d) for i in range(3) for d in (False, True)]
  EXPECT_EQ(as_pairs(awq_grid(DuoScaling::Both, 6)),
            (std::vector<std::pair<double, bool>>{
                {0.0, false}, {0.0, true}, {0.5, false}, {0.5, true}, {1.0, false}, {1.0, true}}));
  EXPECT_EQ(awq_grid(DuoScaling::On, 20).size(), 20u);
}

TEST(AwqScales, WeightMeansNormalizeEachQuantizationChunk) {
  at::manual_seed(3);
  const at::Tensor a = at::randn({4, 8});
  const at::Tensor b = at::randn({2, 8});
  quant::QuantizationArgs group;
  group.num_bits = 4;
  group.strategy = quant::Strategy::Group;
  group.group_size = 4;
  quant::QuantizationArgs channel;
  channel.num_bits = 4;
  channel.strategy = quant::Strategy::Channel;
  const at::Tensor means = awq_weight_means({a, b}, {group, channel});  // fp64 [8]
  ASSERT_EQ(means.scalar_type(), at::kDouble);
  for (int64_t c = 0; c < 8; ++c) {
    double total = 0;
    for (int64_t r = 0; r < 4; ++r) {  // a: chunks of 4 columns within a row
      double chunk_max = 0;
      for (int64_t k = c / 4 * 4; k < c / 4 * 4 + 4; ++k) chunk_max = std::max(chunk_max, std::fabs(a[r][k].item<double>()));
      total += static_cast<float>(std::fabs(a[r][c].item<float>()) / static_cast<float>(chunk_max + 1e-6));
    }
    for (int64_t r = 0; r < 2; ++r) {  // b: a whole row per chunk
      double row_max = 0;
      for (int64_t k = 0; k < 8; ++k) row_max = std::max(row_max, std::fabs(b[r][k].item<double>()));
      total += static_cast<float>(std::fabs(b[r][c].item<float>()) / static_cast<float>(row_max + 1e-6));
    }
    EXPECT_NEAR(means[c].item<double>(), total / 6.0, 1e-6) << c;
  }
}

TEST(AwqScales, CandidateScalesFollowTheFormula) {
  const at::Tensor x_mean = at::tensor({0.5f, 2.0f, 8.0f, 0.0f});
  const at::Tensor w_mean = at::tensor({0.25, 0.5, 0.75, 1.0}, at::kDouble);
  const at::Tensor duo = awq_candidate_scales(x_mean, w_mean, {0.5, true});
  ASSERT_EQ(duo.scalar_type(), at::kDouble);
  std::vector<double> expected;
  for (int i = 0; i < 4; ++i) {
    const double x = x_mean[i].item<float>(), w = w_mean[i].item<double>();
    // x_mean^α in fp32 (upstream's activation means are fp32), the rest in fp64
    expected.push_back(std::max(static_cast<double>(std::pow(static_cast<float>(x), 0.5f)) / (std::pow(w, 0.5) + 1e-4),
                                1e-4));
  }
  const double norm = std::sqrt(*std::max_element(expected.begin(), expected.end()) *
                                *std::min_element(expected.begin(), expected.end()));
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(duo[i].item<double>(), expected[i] / norm, 1e-6 * expected[i] / norm) << i;
  // α = 0 without duo: every scale is 1 (identity), in fp32.
  const at::Tensor identity = awq_candidate_scales(x_mean, w_mean, {0.0, false});
  EXPECT_EQ(identity.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(identity, at::ones({4})));
}

}  // namespace
}  // namespace dcomp::lifecycle
