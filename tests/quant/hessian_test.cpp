// HessianAccumulator against a plain double loop of Σ 2·x xᵀ.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <vector>

#include "kernels/quant/hessian.hpp"

namespace dcomp::quant {
namespace {

TEST(HessianAccumulator, SumsTwiceTheOuterProductsAndCountsSequences) {
  const int64_t in = 6;
  const at::Tensor a = at::randn({5, in});
  const at::Tensor b = at::randn({2, 3, in});  // [sequences, tokens, in] is flattened
  HessianAccumulator hessian(in);
  hessian.add(a, 1);
  hessian.add(b, 2);
  EXPECT_EQ(hessian.num_samples(), 3);

  std::vector<double> expected(in * in, 0.0);
  const at::Tensor tokens = at::cat({a, b.reshape({-1, in})}).to(at::kDouble).contiguous();
  const double* x = tokens.data_ptr<double>();
  for (int64_t t = 0; t < tokens.size(0); ++t) {
    for (int64_t i = 0; i < in; ++i) {
      for (int64_t j = 0; j < in; ++j) expected[i * in + j] += 2.0 * x[t * in + i] * x[t * in + j];
    }
  }
  const at::Tensor sum = hessian.sum().to(at::kDouble).contiguous();
  for (int64_t k = 0; k < in * in; ++k) EXPECT_NEAR(sum.data_ptr<double>()[k], expected[k], 1e-4) << k;

  const at::Tensor h = normalized(hessian.sum(), hessian.num_samples());
  EXPECT_TRUE(at::allclose(h, hessian.sum() / 3.0));
  EXPECT_THROW(normalized(hessian.sum(), 0), std::invalid_argument);

  hessian.set(at::eye(in, at::kFloat), 7);
  EXPECT_EQ(hessian.num_samples(), 7);
  EXPECT_TRUE(at::equal(hessian.sum(), at::eye(in, at::kFloat)));
  EXPECT_THROW(hessian.set(at::eye(in + 1, at::kFloat), 1), std::invalid_argument);
  EXPECT_THROW(hessian.add(at::randn({3, in + 1}), 1), std::invalid_argument);
  EXPECT_THROW(HessianAccumulator(0), std::invalid_argument);
}

}  // namespace
}  // namespace dcomp::quant
