// gptq_quantize (blocked, fp32) against the unblocked double-precision reference in
// gptq_reference.hpp for every actorder / strategy / symmetry / type combination, with
// a block size smaller than the column count so the lazy block update is exercised;
// plus its output error against round-to-nearest, dead inputs, and the damping retries.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "kernels/quant/gptq.hpp"
#include "kernels/quant/observers.hpp"
#include "tests/quant/gptq_reference.hpp"
#include "tests/quant/reference_linalg.hpp"

namespace dcomp::quant {
namespace {

using testing::correlated_inputs;
using testing::hessian_of;
using testing::output_error;

struct GptqCase {
  std::string name;
  int bits;
  QuantType type;
  bool symmetric;
  Strategy strategy;
  int group_size;  // Group: columns per group; Block: square block side
  ActOrder actorder;
  int64_t rows;
  int64_t cols;
  bool dead_inputs = false;
  const char* observer = nullptr;
};

std::ostream& operator<<(std::ostream& os, const GptqCase& c) { return os << c.name; }

QuantizationArgs args_of(const GptqCase& c) {
  QuantizationArgs args;
  args.num_bits = c.bits;
  args.type = c.type;
  args.symmetric = c.symmetric;
  args.strategy = c.strategy;
  if (c.strategy == Strategy::Group) args.group_size = c.group_size;
  if (c.strategy == Strategy::Block) args.block_structure = std::vector<int>{c.group_size, c.group_size};
  args.actorder = c.actorder;
  if (c.observer != nullptr) args.observer = c.observer;
  return args;
}

class GptqMatchesReference : public ::testing::TestWithParam<GptqCase> {};

TEST_P(GptqMatchesReference, CodesScalesAndLoss) {
  const GptqCase& c = GetParam();
  const QuantizationArgs args = args_of(c);
  uint64_t seed = 17;
  for (const char ch : c.name) seed = seed * 31 + static_cast<unsigned char>(ch);
  seed %= 100000;
  at::Tensor x = correlated_inputs(2 * c.cols, c.cols, seed);
  if (c.dead_inputs) {
    for (const int64_t dead : {2, 7, 11}) x.select(1, dead).zero_();
  }
  at::manual_seed(seed + 1);
  const at::Tensor w = at::randn({c.rows, c.cols});
  const at::Tensor h = hessian_of(x);
  GptqOptions options;
  options.block_size = 16;
  const GptqResult result = gptq_quantize(w, h, args, options);

  ASSERT_EQ(result.codes.sizes(), w.sizes());
  ASSERT_EQ(result.codes.scalar_type(), c.type == QuantType::Float ? at::kByte : at::kChar);
  EXPECT_FALSE(result.fell_back_to_rtn);
  EXPECT_EQ(result.retries, 0);

  const bool mse = c.observer != nullptr && std::string(c.observer) == "mse";
  QParams observed;
  if (mse) {
    observed = observe_weight(w, args);
    ASSERT_TRUE(at::equal(observed.scale, result.qparams.scale));
  }
  const testing::ReferenceGptqOutcome ref =
      testing::reference_gptq(w, h, args, options.dampening_frac, result.codes, mse ? &observed : nullptr);

  EXPECT_EQ(ref.mismatches, 0);
  EXPECT_LE(ref.tie_flips, 2) << "codes that differ only at an exact rounding tie";
  if (ref.tie_flips > 0) std::cout << "  [" << c.name << "] tie flips: " << ref.tie_flips << "\n";

  const at::Tensor scale = result.qparams.scale.reshape({-1}).to(at::kDouble);
  const at::Tensor zero_point = result.qparams.zero_point.reshape({-1});
  ASSERT_EQ(scale.numel(), static_cast<int64_t>(ref.scale.size()));
  for (int64_t q = 0; q < scale.numel(); ++q) {
    EXPECT_NEAR(scale[q].item<double>(), ref.scale[q], 2e-7 * ref.scale[q]) << "qparam " << q;
    EXPECT_EQ(zero_point[q].item<int>(), static_cast<int>(ref.zero_point[q])) << "qparam " << q;
  }

  const at::Tensor deq_ref = testing::to_tensor(ref.dequantized);
  // fp32 rounding of (q − zp)·scale: relative to the values, plus a sliver of a step.
  const double tolerance = 1e-5 * scale.max().item<double>() + 1e-6 * deq_ref.abs().max().item<double>();
  EXPECT_LE((result.dequantized.to(at::kDouble) - deq_ref).abs().max().item<double>(), tolerance);
  EXPECT_NEAR(result.loss, ref.loss, 1e-3 * ref.loss + 1e-9);

  // The codes, dequantized with the returned qparams (and g_idx), give the returned weight.
  EXPECT_TRUE(at::equal(dequantize_codes(result.codes, result.qparams, args, result.g_idx), result.dequantized));
  if (c.actorder == ActOrder::Group) {
    ASSERT_TRUE(result.g_idx.defined());
    ASSERT_EQ(result.g_idx.scalar_type(), at::kInt);
    for (int64_t p = 0; p < c.cols; ++p) {
      EXPECT_EQ(result.g_idx[ref.perm[p]].item<int>(), p / c.group_size) << "column " << ref.perm[p];
    }
  } else {
    EXPECT_FALSE(result.g_idx.defined());
  }
  if (c.dead_inputs) {
    for (const int64_t dead : {2, 7, 11}) {
      EXPECT_TRUE(at::equal(result.dequantized.select(1, dead), at::zeros({c.rows})));
    }
  }
}

const auto kInt = QuantType::Int;
const auto kFp8 = QuantType::Float;

INSTANTIATE_TEST_SUITE_P(
    AllCombinations, GptqMatchesReference,
    ::testing::Values(
        GptqCase{"int4_sym_channel_none", 4, kInt, true, Strategy::Channel, 0, ActOrder::None, 24, 40},
        GptqCase{"int4_asym_channel_static", 4, kInt, false, Strategy::Channel, 0, ActOrder::Static, 16, 64},
        GptqCase{"int4_sym_channel_static", 4, kInt, true, Strategy::Channel, 0, ActOrder::Static, 24, 40},
        GptqCase{"int4_asym_channel_none", 4, kInt, false, Strategy::Channel, 0, ActOrder::None, 16, 64},
        GptqCase{"int4_sym_group8_none", 4, kInt, true, Strategy::Group, 8, ActOrder::None, 16, 64},
        GptqCase{"int4_asym_group8_none", 4, kInt, false, Strategy::Group, 8, ActOrder::None, 24, 40},
        GptqCase{"int4_sym_group8_static", 4, kInt, true, Strategy::Group, 8, ActOrder::Static, 24, 40},
        GptqCase{"int4_asym_group8_static", 4, kInt, false, Strategy::Group, 8, ActOrder::Static, 16, 64},
        GptqCase{"int4_sym_group8_group", 4, kInt, true, Strategy::Group, 8, ActOrder::Group, 24, 40},
        GptqCase{"int4_asym_group8_group", 4, kInt, false, Strategy::Group, 8, ActOrder::Group, 16, 64},
        GptqCase{"int8_sym_tensor_none", 8, kInt, true, Strategy::Tensor, 0, ActOrder::None, 24, 40},
        GptqCase{"int4_asym_tensor_static", 4, kInt, false, Strategy::Tensor, 0, ActOrder::Static, 16, 64},
        GptqCase{"int4_sym_tensor_static", 4, kInt, true, Strategy::Tensor, 0, ActOrder::Static, 24, 40},
        GptqCase{"int8_asym_channel_static", 8, kInt, false, Strategy::Channel, 0, ActOrder::Static, 24, 40},
        GptqCase{"int2_sym_group8_static", 2, kInt, true, Strategy::Group, 8, ActOrder::Static, 16, 64},
        GptqCase{"int3_asym_channel_none", 3, kInt, false, Strategy::Channel, 0, ActOrder::None, 24, 40},
        GptqCase{"int8_sym_block8_static", 8, kInt, true, Strategy::Block, 8, ActOrder::Static, 24, 40},
        GptqCase{"fp8_channel_none", 8, kFp8, true, Strategy::Channel, 0, ActOrder::None, 24, 40},
        GptqCase{"fp8_tensor_static", 8, kFp8, true, Strategy::Tensor, 0, ActOrder::Static, 16, 64},
        GptqCase{"fp8_group8_group", 8, kFp8, true, Strategy::Group, 8, ActOrder::Group, 16, 64},
        GptqCase{"fp8_block8_none", 8, kFp8, true, Strategy::Block, 8, ActOrder::None, 24, 40},
        GptqCase{"int4_sym_channel_static_dead", 4, kInt, true, Strategy::Channel, 0, ActOrder::Static, 24, 40, true},
        GptqCase{"int4_asym_group8_none_dead", 4, kInt, false, Strategy::Group, 8, ActOrder::None, 16, 64, true},
        GptqCase{"int4_sym_group8_static_mse", 4, kInt, true, Strategy::Group, 8, ActOrder::Static, 24, 40, false,
                 "mse"}),
    [](const ::testing::TestParamInfo<GptqCase>& info) { return info.param.name; });

TEST(Gptq, OutputErrorIsBelowRoundToNearest) {
  const at::Tensor x = correlated_inputs(1024, 128, 3);
  at::manual_seed(4);
  const at::Tensor w = at::randn({64, 128});
  const at::Tensor h = hessian_of(x);
  for (const ActOrder actorder : {ActOrder::None, ActOrder::Static}) {
    QuantizationArgs args;
    args.num_bits = 4;
    args.strategy = Strategy::Group;
    args.group_size = 32;
    args.actorder = actorder;
    const GptqResult gptq = gptq_quantize(w, h, args);
    const at::Tensor rtn = fake_quantize(w, observe_weight(w, args), args);
    const double gptq_error = output_error(w, gptq.dequantized, x);
    const double rtn_error = output_error(w, rtn, x);
    std::cout << "  ‖(W−Q)Xᵀ‖: GPTQ " << gptq_error << " vs RTN " << rtn_error << "\n";
    EXPECT_LT(gptq_error, 0.9 * rtn_error);
  }
}

TEST(Gptq, IndefiniteHessianIsRetriedWithMoreDamping) {
  // Blocks [[1, 2.5], [2.5, 1]] have eigenvalues −1.5 and 3.5: damping 0.01, 0.1 and 1 (times
  // the mean diagonal, 1) leave one negative; 10 works. (No damping lands exactly on a zero
  // eigenvalue, where whether Cholesky fails depends on the LAPACK build's rounding.)
  const int64_t n = 16;
  at::Tensor h = at::eye(n, at::kFloat);
  for (int64_t i = 0; i < n; i += 2) {
    h[i][i + 1] = 2.5f;
    h[i + 1][i] = 2.5f;
  }
  at::manual_seed(5);
  const at::Tensor w = at::randn({8, n});
  QuantizationArgs args;
  args.num_bits = 4;
  args.strategy = Strategy::Channel;
  const GptqResult result = gptq_quantize(w, h, args);
  EXPECT_GT(result.retries, 0);
  EXPECT_FALSE(result.fell_back_to_rtn);
  EXPECT_NEAR(result.damping, 0.01 * std::pow(10.0, result.retries), 1e-3 * result.damping);
  EXPECT_GT(result.damping, 1.0);
  EXPECT_TRUE(at::isfinite(result.dequantized).all().item<bool>());
  EXPECT_TRUE(std::isfinite(result.loss));

  // Without retries the factorization fails once and GPTQ degrades to round-to-nearest.
  GptqOptions no_retry;
  no_retry.max_damping_retries = 0;
  const GptqResult rtn = gptq_quantize(w, h, args, no_retry);
  EXPECT_TRUE(rtn.fell_back_to_rtn);
  EXPECT_TRUE(at::equal(rtn.codes, quantize_codes(w, observe_weight(w, args), args)));
}

TEST(Gptq, RejectsBadInput) {
  QuantizationArgs args;
  args.num_bits = 4;
  args.strategy = Strategy::Channel;
  const at::Tensor w = at::randn({4, 8});
  EXPECT_THROW(gptq_quantize(w, at::eye(7), args), std::invalid_argument);
  EXPECT_THROW(gptq_quantize(w.to(at::kDouble), at::eye(8), args), std::invalid_argument);
  at::Tensor nan_w = w.clone();
  nan_w[0][0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(gptq_quantize(nan_w, at::eye(8), args), std::invalid_argument);
  at::Tensor nan_h = at::eye(8);
  nan_h[1][2] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(gptq_quantize(w, nan_h, args), std::invalid_argument);
  QuantizationArgs group_order = args;
  group_order.actorder = ActOrder::Group;  // needs the group strategy
  EXPECT_THROW(gptq_quantize(w, at::eye(8), group_order), QuantConfigError);
}

}  // namespace
}  // namespace dcomp::quant
