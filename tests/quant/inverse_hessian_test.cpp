// inverse_hessian_factor against upstream's chain of ATen calls
// (linalg.cholesky → cholesky_inverse → linalg.cholesky(upper=True)), bit for bit;
// and the dense copies of matrix_copies.hpp against their element-wise definitions.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/quant/inverse_hessian.hpp"
#include "kernels/quant/matrix_copies.hpp"
#include "tests/quant/reference_linalg.hpp"

namespace dcomp::quant {
namespace {

// Upstream quantize_weight step 8, as tensor ops: [n, n] fp32 U.
at::Tensor upstream_upper(const at::Tensor& h, float damping) {
  at::Tensor damped = h.clone();
  damped.diagonal().add_(damping);
  const at::Tensor lower = at::linalg_cholesky(damped);
  return at::linalg_cholesky(at::cholesky_inverse(lower), /*upper=*/true);
}

void expect_matches_upstream(const at::Tensor& h) {
  const InverseHessianFactor factor = inverse_hessian_factor(h, 0.01, 0);
  ASSERT_FALSE(factor.identity_fallback);
  const float damping = 0.01f * h.diagonal().mean().item<float>();
  EXPECT_EQ(factor.damping, damping);
  const at::Tensor expected = upstream_upper(h, damping);
  EXPECT_TRUE(at::equal(factor.upper, expected))
      << "max |diff| " << (factor.upper - expected).abs().max().item<float>();
  EXPECT_TRUE(factor.upper.t().is_contiguous());
  EXPECT_TRUE(at::equal(factor.upper.tril(-1), at::zeros_like(factor.upper)));
}

TEST(InverseHessian, FactorIsUpstreamsChainBitForBit) {
  for (const int64_t n : {1, 5, 64, 200, 333}) {
    const at::Tensor x = testing::correlated_inputs(2 * n + 3, n, 40 + static_cast<uint64_t>(n));
    expect_matches_upstream(testing::hessian_of(x));
  }
}

TEST(InverseHessian, ReadsOnlyTheLowerTriangleLikeUpstream) {
  const int64_t n = 150;
  at::Tensor h = testing::hessian_of(testing::correlated_inputs(400, n, 9));
  // An upper triangle one ulp off (as a Hessian summed in another order might be).
  at::Tensor upper_part = h.triu(1);
  h = h.tril() + at::nextafter(upper_part, upper_part * 2).triu(1);
  ASSERT_FALSE(at::equal(h, h.t()));
  expect_matches_upstream(h);
}

TEST(InverseHessian, PermutedFactorIsTheFactorOfThePermutedCopy) {
  const int64_t n = 130;
  at::Tensor x = testing::correlated_inputs(300, n, 12);
  for (const int64_t column : {3, 64, 129}) x.select(1, column).zero_();  // dead inputs
  at::Tensor h = testing::hessian_of(x);
  h = h.tril() + at::nextafter(h.triu(1), h.triu(1) * 2).triu(1);  // not bitwise symmetric
  const at::Tensor perm = at::randperm(n, at::kLong);
  at::Tensor copy = h.index_select(0, perm).index_select(1, perm);
  const at::Tensor copy_dead = mask_dead_inputs(copy);
  const InverseHessianFactor expected = inverse_hessian_factor(copy, 0.01, 0);
  at::Tensor dead;
  const InverseHessianFactor factor = permuted_inverse_hessian_factor(h, perm, 0.01, 0, dead);
  EXPECT_TRUE(at::equal(dead, copy_dead));
  EXPECT_EQ(dead.sum().item<int64_t>(), 3);
  EXPECT_EQ(factor.damping, expected.damping);
  EXPECT_TRUE(at::equal(factor.upper, expected.upper));

  // Retries refill the buffer: an indefinite matrix that needs two tenfold increases.
  at::Tensor indefinite = at::eye(6);
  for (int64_t i = 0; i < 6; i += 2) indefinite[i][i + 1] = indefinite[i + 1][i] = 1.5f;
  const at::Tensor order = at::tensor({5, 0, 3, 1, 4, 2}, at::kLong);
  at::Tensor permuted = indefinite.index_select(0, order).index_select(1, order);
  mask_dead_inputs(permuted);
  const InverseHessianFactor retried_expected = inverse_hessian_factor(permuted, 0.01, 4);
  const InverseHessianFactor retried = permuted_inverse_hessian_factor(indefinite, order, 0.01, 4, dead);
  EXPECT_GT(retried.retries, 0);
  EXPECT_FALSE(retried.identity_fallback);
  EXPECT_EQ(retried.retries, retried_expected.retries);
  EXPECT_TRUE(at::equal(retried.upper, retried_expected.upper));
}

TEST(InverseHessian, RetriesThenFallsBackToIdentity) {
  at::Tensor h = -at::eye(8);
  const InverseHessianFactor factor = inverse_hessian_factor(h, 0.01, 2);
  EXPECT_TRUE(factor.identity_fallback);
  EXPECT_EQ(factor.retries, 2);
  EXPECT_TRUE(at::equal(factor.upper, at::eye(8)));
  at::Tensor nan_h = at::eye(4);
  nan_h[0][1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(inverse_hessian_factor(nan_h, 0.01, 0), std::invalid_argument);
}

TEST(InverseHessian, MaskDeadInputs) {
  at::Tensor h = at::eye(4) * 2;
  h[1][1] = 0.0f;
  const at::Tensor dead = mask_dead_inputs(h);
  EXPECT_TRUE(at::equal(dead, at::tensor({0, 1, 0, 0}, at::kInt).to(at::kBool)));
  EXPECT_EQ(h[1][1].item<float>(), 1.0f);
}

TEST(MatrixCopies, MatchTheirDefinitions) {
  for (const int64_t n : {1, 3, 64, 65, 130}) {
    const at::Tensor a = at::randn({n, n});
    const float* src = a.data_ptr<float>();

    at::Tensor t = at::empty({n, n});
    transpose_square(src, t.data_ptr<float>(), n);
    EXPECT_TRUE(at::equal(t, a.t()));

    at::Tensor up = a.clone();
    mirror_lower_onto_upper(up.data_ptr<float>(), n);
    EXPECT_TRUE(at::equal(up, a.tril() + a.tril(-1).t()));

    at::Tensor m = a.clone();
    mirror_upper_onto_lower(m.data_ptr<float>(), n);
    EXPECT_TRUE(at::equal(m, a.triu() + a.triu(1).t()));

    at::Tensor z = a.clone();
    zero_strict_upper(z.data_ptr<float>(), n);
    EXPECT_TRUE(at::equal(z, a.tril()));

    const at::Tensor perm = at::randperm(n, at::kLong);
    at::Tensor g = at::empty({n, n});
    gather_square(src, perm.data_ptr<int64_t>(), g.data_ptr<float>(), n);
    EXPECT_TRUE(at::equal(g, a.index_select(0, perm).index_select(1, perm)));

    const at::Tensor wide = at::randn({7, n});
    at::Tensor c = at::empty({7, n});
    gather_columns(wide.data_ptr<float>(), perm.data_ptr<int64_t>(), c.data_ptr<float>(), 7, n);
    EXPECT_TRUE(at::equal(c, wide.index_select(1, perm)));
    at::Tensor in_place = wide.clone();
    permute_columns_in_place(in_place.data_ptr<float>(), perm.data_ptr<int64_t>(), 7, n);
    EXPECT_TRUE(at::equal(in_place, c));

    const at::Tensor bytes = at::randint(0, 256, {5, n}, at::kByte);
    at::Tensor byte_copy = at::empty_like(bytes);
    gather_columns(bytes.data_ptr<uint8_t>(), perm.data_ptr<int64_t>(), byte_copy.data_ptr<uint8_t>(), 5, n);
    EXPECT_TRUE(at::equal(byte_copy, bytes.index_select(1, perm)));
    at::Tensor bytes_in_place = bytes.clone();
    permute_columns_in_place(bytes_in_place.data_ptr<uint8_t>(), perm.data_ptr<int64_t>(), 5, n);
    EXPECT_TRUE(at::equal(bytes_in_place, byte_copy));
  }
}

TEST(MatrixCopies, AllFinite) {
  std::vector<float> v(100000, 1.5f);
  EXPECT_TRUE(all_finite(v.data(), static_cast<int64_t>(v.size())));
  EXPECT_TRUE(all_finite(v.data(), 0));
  v[77777] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(all_finite(v.data(), static_cast<int64_t>(v.size())));
  v[77777] = -std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(all_finite(v.data(), static_cast<int64_t>(v.size())));
  v[77777] = std::numeric_limits<float>::max();
  v[0] = std::numeric_limits<float>::denorm_min();
  EXPECT_TRUE(all_finite(v.data(), static_cast<int64_t>(v.size())));
}

}  // namespace
}  // namespace dcomp::quant
