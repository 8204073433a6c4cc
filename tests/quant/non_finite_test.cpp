// find_non_finite / require_finite against tensors whose NaN and infinities are placed by
// hand: the count, the first bad value in row-major order of the tensor's own indexing
// (also for non-contiguous views and dtypes other than fp32), and the message.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/quant/non_finite.hpp"

namespace dcomp::quant {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(NonFinite, FiniteAndNonFloatingTensorsPass) {
  EXPECT_FALSE(find_non_finite(at::randn({17, 33})));
  EXPECT_FALSE(find_non_finite(at::randn({17, 33}).to(at::kBFloat16)));
  EXPECT_FALSE(find_non_finite(at::full({4}, std::numeric_limits<float>::max())));
  EXPECT_FALSE(find_non_finite(at::arange(10, at::kInt)));
  EXPECT_FALSE(find_non_finite(at::Tensor()));
  EXPECT_FALSE(find_non_finite(at::empty({0, 5})));
}

TEST(NonFinite, CountsAndLocatesTheFirstInRowMajorOrder) {
  at::Tensor w = at::randn({20, 30});
  w[10][2] = kNaN;
  w[3][7] = kInf;
  w[19][29] = -kInf;
  const auto found = find_non_finite(w);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->count, 3);
  EXPECT_EQ(found->first_index, (std::vector<int64_t>{3, 7}));
  EXPECT_TRUE(std::isinf(found->first_value) && found->first_value > 0);
  EXPECT_EQ(describe(*found), "3 non-finite values (first at [3, 7]: inf)");
}

TEST(NonFinite, IndexesNonContiguousViewsAsTheyAreIndexed) {
  at::Tensor base = at::zeros({6, 4});
  base[2][3] = -kInf;  // the transpose holds it at [3, 2]
  const auto found = find_non_finite(base.t());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->first_index, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(describe(*found), "1 non-finite value (at [3, 2]: -inf)");
}

// More values than one scan chunk (4 Mi), in bfloat16: the bad one is the very last.
TEST(NonFinite, FindsTheLastValueOfALargeBFloat16Tensor) {
  at::Tensor w = at::ones({2100, 2048}, at::kBFloat16);
  w[2099][2047] = kNaN;
  const auto found = find_non_finite(w);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->count, 1);
  EXPECT_EQ(found->first_index, (std::vector<int64_t>{2099, 2047}));
  EXPECT_TRUE(std::isnan(found->first_value));
}

TEST(NonFinite, RequireFiniteNamesTheTensor) {
  at::Tensor norm = at::ones({8});
  EXPECT_NO_THROW(require_finite(norm, "model.norm: weight", "refusing to compress"));
  norm[5] = kNaN;
  try {
    require_finite(norm, "model.norm: weight", "refusing to compress");
    FAIL() << "no error";
  } catch (const NonFiniteError& e) {
    EXPECT_STREQ(e.what(), "model.norm: weight holds 1 non-finite value (at [5]: nan); refusing to compress");
  }
}

TEST(NonFinite, Fp8NanPatterns) {
  // E4M3FN: 0x7E = 448 and 0xFE = -448 are finite, 0x7F and 0xFF are NaN.
  EXPECT_FALSE(holds_fp8_nan(at::tensor(std::vector<uint8_t>{0x00, 0x38, 0x7E, 0xFE, 0x80})));
  EXPECT_TRUE(holds_fp8_nan(at::tensor(std::vector<uint8_t>{0x00, 0x7F})));
  EXPECT_TRUE(holds_fp8_nan(at::tensor(std::vector<uint8_t>{0xFF, 0x01})));
  at::Tensor large = at::full({300000}, 0x38, at::kByte);
  large[299999] = 0xFF;
  EXPECT_TRUE(holds_fp8_nan(large));
}

}  // namespace
}  // namespace dcomp::quant
