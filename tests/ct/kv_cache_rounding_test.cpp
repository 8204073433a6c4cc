// FP8 KV-cache rounding against a brute-force reference: every finite E4M3 value enumerated from
// its bit pattern (OCP 8-bit FP spec: bias 7, subnormals m·2^-9), then for each input the
// grid point below (toward zero) or the nearest one (ties to the even code).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/ct/kv_cache_rounding.hpp"
#include "tests/ct/e4m3_reference.hpp"

namespace dcomp::ct {
namespace {

TEST(KvCacheRounding, EveryRegionMatchesTheEnumeratedGrid) {
  const std::vector<double> grid = e4m3_magnitudes();
  std::vector<float> inputs;
  for (double g : grid) {  // each grid point, its neighbours, the midpoints to the next one
    for (double f : {1.0, 1.0 - 1e-6, 1.0 + 1e-6}) inputs.push_back(static_cast<float>(g * f));
  }
  for (size_t i = 0; i + 1 < grid.size(); ++i) inputs.push_back(static_cast<float>((grid[i] + grid[i + 1]) / 2));
  for (float big : {448.0f, 449.0f, 463.9f, 464.0f, 1000.0f, 1e30f}) inputs.push_back(big);
  at::Tensor random = at::randn({4096}, at::TensorOptions().dtype(at::kFloat)) * 30;  // and a normal spread
  for (int64_t i = 0; i < random.numel(); ++i) inputs.push_back(random[i].item<float>());
  const size_t count = inputs.size();
  for (size_t i = 0; i < count; ++i) inputs.push_back(-inputs[i]);

  const float scale = 0.375f;  // a scale that is not a power of two: x is divided by it first
  const at::Tensor x = at::tensor(inputs) * scale;
  for (KvCacheRounding rounding : {KvCacheRounding::Nearest, KvCacheRounding::TowardZero}) {
    const at::Tensor got = fake_quantize_kv_cache(x, at::tensor({scale}), rounding);
    ASSERT_EQ(got.sizes(), x.sizes());
    int mismatches = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const float scaled = x[static_cast<int64_t>(i)].item<float>() / scale;  // fp32, as the cache computes it
      const double expected = e4m3_reference(scaled, rounding == KvCacheRounding::TowardZero, grid) * scale;
      if (got[static_cast<int64_t>(i)].item<float>() != static_cast<float>(expected) && ++mismatches < 5) {
        ADD_FAILURE() << to_string(rounding) << ": x/scale = " << scaled << " gave "
                      << got[static_cast<int64_t>(i)].item<float>() / scale << ", expected "
                      << expected / scale;
      }
    }
    EXPECT_EQ(mismatches, 0) << to_string(rounding);
  }
}

TEST(KvCacheRounding, TowardZeroShrinksAndNearestDoesNot) {
  // The property that makes vLLM's CPU cache cost more: every magnitude shrinks or stays.
  const at::Tensor x = at::randn({10000}) * 5;
  const at::Tensor scale = at::tensor({0.02f});
  const at::Tensor truncated = fake_quantize_kv_cache(x, scale, KvCacheRounding::TowardZero);
  const at::Tensor nearest = fake_quantize_kv_cache(x, scale, KvCacheRounding::Nearest);
  EXPECT_TRUE((truncated.abs() <= x.abs()).all().item<bool>());
  EXPECT_FALSE((nearest.abs() <= x.abs()).all().item<bool>());
  EXPECT_LT(truncated.abs().sum().item<double>(), nearest.abs().sum().item<double>());
}

TEST(KvCacheRounding, NamesParseBackAndUnknownNamesAreRefused) {
  for (KvCacheRounding rounding : {KvCacheRounding::Nearest, KvCacheRounding::TowardZero}) {
    EXPECT_EQ(kv_cache_rounding_from_string(to_string(rounding)), rounding);
  }
  EXPECT_THROW(kv_cache_rounding_from_string("stochastic"), std::invalid_argument);
}

}  // namespace
}  // namespace dcomp::ct
