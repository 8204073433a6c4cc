// Weight observers against plain references: min/max from ATen reductions, the MSE
// grid search from a straightforward double-precision transcription of the upstream
// eager loop (llm-compressor observers/grid_search.py), and the activation range
// accumulators against whole-data reductions.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/quant/activation_range.hpp"
#include "kernels/quant/observers.hpp"
#include "tests/quant/int_quant_args.hpp"

namespace dcomp::quant {
namespace {

using test::int_args;

// Heavy-tailed weights, so that shrinking the range pays off.
at::Tensor heavy_tailed(int64_t rows, int64_t cols, uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor z = at::randn({rows, cols});
  return z * z * z;
}

struct Group {
  std::vector<double> values;
};

// The qparam groups of a Channel / Group / Tensor weight, in qparam order.
std::vector<Group> groups_of(const at::Tensor& w, Strategy strategy, int group_size) {
  const int64_t rows = w.size(0);
  const int64_t cols = w.size(1);
  const at::Tensor d = w.to(at::kDouble).contiguous();
  const double* x = d.data_ptr<double>();
  std::vector<Group> groups;
  if (strategy == Strategy::Tensor) {
    groups.push_back({std::vector<double>(x, x + rows * cols)});
  } else {
    const int64_t size = strategy == Strategy::Channel ? cols : group_size;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t g = 0; g < cols / size; ++g) {
        groups.push_back({std::vector<double>(x + r * cols + g * size, x + r * cols + (g + 1) * size)});
      }
    }
  }
  return groups;
}

// Symmetric or asymmetric INT b-bit fake quantization with range [lo, hi] (double).
double fake_quant(double x, double lo, double hi, int bits, bool symmetric) {
  const double q_min = -std::ldexp(1.0, bits - 1);
  const double q_max = std::ldexp(1.0, bits - 1) - 1;
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  double scale;
  double zp = 0.0;
  if (symmetric) {
    scale = std::max(-lo, hi) / ((q_max - q_min) / 2);
  } else {
    scale = (hi - lo) / (q_max - q_min);
    zp = std::nearbyint(std::clamp(q_min - lo / scale, q_min, q_max));
  }
  const double q = std::nearbyint(std::clamp(x / scale + zp, q_min, q_max));
  return (q - zp) * scale;
}

// Upstream eager grid search: shared patience across all groups; returns the chosen p per group.
std::vector<double> reference_mse_shrink(const std::vector<Group>& groups, int bits, bool symmetric, double maxshrink,
                                         double grid, double norm, int patience) {
  std::vector<double> best_error(groups.size(), std::numeric_limits<float>::max());
  std::vector<double> best_p(groups.size(), 1.0);
  int no_improve = 0;
  for (int i = 0; i < static_cast<int>(maxshrink * grid); ++i) {
    const double p = 1.0 - i / grid;
    bool improved = false;
    for (size_t g = 0; g < groups.size(); ++g) {
      const auto& v = groups[g].values;
      const double lo = *std::min_element(v.begin(), v.end()) * p;
      const double hi = *std::max_element(v.begin(), v.end()) * p;
      double error = 0.0;
      for (const double x : v) error += std::pow(std::fabs(fake_quant(x, lo, hi, bits, symmetric) - x), norm);
      if (error < best_error[g]) {
        best_error[g] = error;
        best_p[g] = p;
        improved = true;
      }
    }
    if (improved) {
      no_improve = 0;
    } else if (++no_improve >= patience) {
      break;
    }
  }
  return best_p;
}

void expect_mse_matches_reference(const at::Tensor& w, const QuantizationArgs& args, int group_size, double maxshrink,
                                  double grid, double norm, int patience, bool expect_some_shrink = true) {
  const std::vector<Group> groups = groups_of(w, args.resolved_strategy(), group_size);
  const std::vector<double> p =
      reference_mse_shrink(groups, args.num_bits, args.symmetric, maxshrink, grid, norm, patience);
  const WeightRange range = mse_weight_range(w, args, MseSearchOptions::from_kwargs(args.observer_kwargs));
  const at::Tensor lo = range.min.reshape({-1}).to(at::kDouble);
  const at::Tensor hi = range.max.reshape({-1}).to(at::kDouble);
  ASSERT_EQ(lo.numel(), static_cast<int64_t>(groups.size()));
  int shrunk = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& v = groups[g].values;
    EXPECT_NEAR(lo[g].item<double>(), *std::min_element(v.begin(), v.end()) * p[g], 1e-5) << "group " << g;
    EXPECT_NEAR(hi[g].item<double>(), *std::max_element(v.begin(), v.end()) * p[g], 1e-5) << "group " << g;
    shrunk += p[g] < 1.0;
  }
  if (expect_some_shrink) {
    EXPECT_GT(shrunk, 0) << "the data should make some group prefer a shrunk range";
  }
}

TEST(WeightObservers, MinMaxEqualsPerGroupReductions) {
  const at::Tensor w = at::randn({6, 16});
  const WeightRange channel = weight_min_max(w, int_args(8, true, Strategy::Channel));
  EXPECT_TRUE(at::equal(channel.min, std::get<0>(w.min(1, true))));
  EXPECT_TRUE(at::equal(channel.max, std::get<0>(w.max(1, true))));
  const WeightRange group = weight_min_max(w, int_args(4, true, Strategy::Group, 4));
  EXPECT_TRUE(at::equal(group.min, std::get<0>(w.reshape({6, 4, 4}).min(2))));
  EXPECT_TRUE(at::equal(group.max, std::get<0>(w.reshape({6, 4, 4}).max(2))));
  const WeightRange tensor = weight_min_max(w, int_args(8, true, Strategy::Tensor));
  EXPECT_EQ(tensor.min.item<float>(), w.min().item<float>());
  EXPECT_EQ(tensor.max.item<float>(), w.max().item<float>());
}

TEST(WeightObservers, ObserverNamesMapToMemorylessWeightObservers) {
  QuantizationArgs args;
  EXPECT_EQ(weight_observer_kind(args), WeightObserverKind::MinMax);
  for (const char* name : {"minmax", "static_minmax", "memoryless_minmax"}) {
    args.observer = name;
    EXPECT_EQ(weight_observer_kind(args), WeightObserverKind::MinMax) << name;
  }
  for (const char* name : {"mse", "memoryless_mse"}) {
    args.observer = name;
    EXPECT_EQ(weight_observer_kind(args), WeightObserverKind::Mse) << name;
  }
  args.observer = "imatrix_mse";
  EXPECT_THROW(weight_observer_kind(args), QuantConfigError);
}

TEST(WeightObservers, MseGridSearchMatchesTheUpstreamLoop) {
  const at::Tensor w = heavy_tailed(8, 32, 7);
  QuantizationArgs channel = int_args(4, true, Strategy::Channel);
  channel.observer = "mse";
  expect_mse_matches_reference(w, channel, 0, 0.20, 100, 2.4, 5);
  QuantizationArgs group = int_args(4, false, Strategy::Group, 8);
  group.observer = "memoryless_mse";
  expect_mse_matches_reference(w, group, 8, 0.20, 100, 2.4, 5);
  QuantizationArgs tensor = int_args(8, true, Strategy::Tensor);
  tensor.observer = "mse";
  expect_mse_matches_reference(heavy_tailed(4, 64, 8), tensor, 0, 0.20, 100, 2.4, 5, /*expect_some_shrink=*/false);
}

TEST(WeightObservers, MseHonoursObserverKwargs) {
  const at::Tensor w = heavy_tailed(8, 32, 9);
  QuantizationArgs args = int_args(4, true, Strategy::Group, 16);
  args.observer = "mse";
  args.observer_kwargs = {{"maxshrink", 0.5}, {"grid", 40}, {"norm", 2.0}, {"patience", 3}};
  expect_mse_matches_reference(w, args, 16, 0.5, 40, 2.0, 3);
}

TEST(WeightObservers, MseNeverIncreasesTheErrorOfMinMax) {
  const at::Tensor w = heavy_tailed(16, 64, 11);
  QuantizationArgs args = int_args(4, true, Strategy::Group, 16);
  const at::Tensor minmax_error = (fake_quantize(w, observe_weight(w, args), args) - w).abs().pow(2.4).reshape({16, 4, 16}).sum(2);
  args.observer = "mse";
  const at::Tensor mse_error = (fake_quantize(w, observe_weight(w, args), args) - w).abs().pow(2.4).reshape({16, 4, 16}).sum(2);
  EXPECT_TRUE(at::all(mse_error <= minmax_error * (1 + 1e-5)).item<bool>());
  EXPECT_LT(mse_error.sum().item<double>(), minmax_error.sum().item<double>());
}

TEST(WeightObservers, RejectsBadKwargs) {
  EXPECT_THROW(MseSearchOptions::from_kwargs({{"grid", "many"}}), QuantConfigError);
  EXPECT_THROW(MseSearchOptions::from_kwargs({{"maxshrink", 1.5}}), QuantConfigError);
  EXPECT_THROW(MseSearchOptions::from_kwargs({{"patience", 2.5}}), QuantConfigError);
  const MseSearchOptions defaults = MseSearchOptions::from_kwargs(nlohmann::json::object());
  EXPECT_EQ(defaults.maxshrink, 0.20);
  EXPECT_EQ(defaults.grid, 100.0);
  EXPECT_EQ(defaults.norm, 2.4);
  EXPECT_EQ(defaults.patience, 5);
}

TEST(ActivationRanges, RunningRangeEqualsTheWholeDataAndMerges) {
  const at::Tensor x = at::randn({40, 12}) * 3;
  ActivationRange whole(RangeAveraging::Running);
  ActivationRange first(RangeAveraging::Running);
  ActivationRange second(RangeAveraging::Running);
  for (int b = 0; b < 4; ++b) {
    const at::Tensor batch = x.slice(0, b * 10, b * 10 + 10);
    whole.observe(batch);
    (b < 2 ? first : second).observe(batch);
  }
  EXPECT_EQ(whole.min(), x.min().item<float>());
  EXPECT_EQ(whole.max(), x.max().item<float>());
  first.merge(second);
  EXPECT_EQ(first.min(), whole.min());
  EXPECT_EQ(first.max(), whole.max());
  EXPECT_EQ(first.batches(), 4);

  QuantizationArgs fp8;
  fp8.type = QuantType::Float;
  fp8.strategy = Strategy::Tensor;
  const QParams qp = whole.qparams(fp8);
  EXPECT_FLOAT_EQ(qp.scale.item<float>(), std::max(-whole.min(), whole.max()) / 448.0f);
  EXPECT_THROW(ActivationRange().qparams(fp8), std::logic_error);
}

TEST(ActivationRanges, MovingAverageAndLastBatch) {
  ActivationRange average(activation_range_averaging(std::string("minmax")), 0.5);
  average.observe(at::tensor(std::vector<float>{-2.0f, 4.0f}));
  average.observe(at::tensor(std::vector<float>{-4.0f, 2.0f}));
  EXPECT_FLOAT_EQ(average.min(), -3.0f);  // −2 + 0.5·(−4 − (−2))
  EXPECT_FLOAT_EQ(average.max(), 3.0f);   // 4 + 0.5·(2 − 4)
  ActivationRange other(RangeAveraging::MovingAverage, 0.5);
  other.observe(at::tensor(std::vector<float>{-1.0f, 1.0f}));
  average.merge(other);
  EXPECT_FLOAT_EQ(average.min(), -2.0f);
  EXPECT_FLOAT_EQ(average.max(), 2.0f);

  ActivationRange last(activation_range_averaging(std::nullopt));
  last.observe(at::tensor(std::vector<float>{-10.0f, 10.0f}));
  last.observe(at::tensor(std::vector<float>{-1.0f, 2.0f}));
  EXPECT_EQ(last.min(), -1.0f);
  EXPECT_EQ(last.max(), 2.0f);
  EXPECT_EQ(activation_range_averaging(std::string("static_minmax")), RangeAveraging::Running);
  EXPECT_THROW(activation_range_averaging(std::string("mse")), QuantConfigError);
}

TEST(ActivationRanges, ChannelRangeIsColumnWiseAndMerges) {
  const at::Tensor x = at::randn({30, 5});
  ChannelRange a(5);
  ChannelRange b(5);
  a.observe(x.slice(0, 0, 12));
  b.observe(x.slice(0, 12, 30).reshape({3, 6, 5}));
  a.merge(b);
  EXPECT_TRUE(at::equal(a.min(), std::get<0>(x.min(0))));
  EXPECT_TRUE(at::equal(a.max(), std::get<0>(x.max(0))));
  EXPECT_THROW(a.observe(at::randn({2, 4})), std::invalid_argument);
}

}  // namespace
}  // namespace dcomp::quant
