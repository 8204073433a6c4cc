// Scales, zero points and codes against values computed by hand from the
// compressed-tensors formulas (calculate_qparams, _quantize, _dequantize).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cfloat>
#include <vector>

#include "kernels/quant/fp8_e4m3.hpp"
#include "kernels/quant/observers.hpp"
#include "kernels/quant/qparams.hpp"
#include "tests/quant/int_quant_args.hpp"

namespace dcomp::quant {
namespace {

using test::int_args;

at::Tensor matrix(int64_t rows, int64_t cols, std::vector<float> values) {
  return at::tensor(values, at::kFloat).reshape({rows, cols});
}

std::vector<int> int_codes(const at::Tensor& codes) {
  const at::Tensor flat = codes.to(at::kInt).reshape({-1}).contiguous();
  return {flat.data_ptr<int>(), flat.data_ptr<int>() + flat.numel()};
}

std::vector<float> floats(const at::Tensor& t) {
  const at::Tensor flat = t.to(at::kFloat).reshape({-1}).contiguous();
  return {flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel()};
}

TEST(QParams, Int4SymmetricDividesAbsmaxBy7p5AndClampsThePositiveEnd) {
  // Row 0: absmax 7.5 → scale 1. Row 1: absmax 15 → scale 2.
  const at::Tensor w = matrix(2, 5, {7.5f, -7.5f, 2.5f, -0.5f, 1.5f,  //
                                     15.0f, 5.0f, -3.0f, 0.9f, -15.0f});
  const QuantizationArgs args = int_args(4, true, Strategy::Channel);
  const QParams qp = observe_weight(w, args);
  ASSERT_EQ(qp.scale.sizes(), (at::IntArrayRef{2, 1}));
  EXPECT_EQ(floats(qp.scale), (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(int_codes(qp.zero_point), (std::vector<int>{0, 0}));
  EXPECT_EQ(qp.zero_point.scalar_type(), at::kInt);
  const at::Tensor codes = quantize_codes(w, qp, args);
  ASSERT_EQ(codes.scalar_type(), at::kChar);
  // +7.5 → 8 (half to even) → clamped to 7; −7.5 → −8; 2.5 → 2; −0.5 → 0; 1.5 → 2.
  // 15/2 = 7.5 → 7; 5/2 = 2.5 → 2; −1.5 → −2; 0.45 → 0; −7.5 → −8.
  EXPECT_EQ(int_codes(codes), (std::vector<int>{7, -8, 2, 0, 2, 7, 2, -2, 0, -8}));
  EXPECT_EQ(floats(dequantize_codes(codes, qp, args)),
            (std::vector<float>{7, -8, 2, 0, 2, 14, 4, -4, 0, -16}));
}

TEST(QParams, Int4AsymmetricScaleAndZeroPoint) {
  // min −3, max 12 → scale 15/15 = 1, zp = −8 − (−3/1) = −5.
  // Row 1: min 0.5 (forced to 0), max 30 → scale 2, zp = −8.
  const at::Tensor w = matrix(2, 4, {12.0f, -3.0f, 2.5f, 1.4f,  //
                                     30.0f, 0.5f, 3.0f, 7.0f});
  const QuantizationArgs args = int_args(4, false, Strategy::Channel);
  const QParams qp = observe_weight(w, args);
  EXPECT_EQ(floats(qp.scale), (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(int_codes(qp.zero_point), (std::vector<int>{-5, -8}));
  const at::Tensor codes = quantize_codes(w, qp, args);
  // 12−5 = 7; −3−5 = −8; 2.5−5 = −2.5 → −2; 1.4−5 = −3.6 → −4.
  // 15−8 = 7; 0.25−8 → −8 (−7.75 → −8); 1.5−8 = −6.5 → −6; 3.5−8 = −4.5 → −4.
  EXPECT_EQ(int_codes(codes), (std::vector<int>{7, -8, -2, -4, 7, -8, -6, -4}));
  EXPECT_EQ(floats(dequantize_codes(codes, qp, args)), (std::vector<float>{12, -3, 3, 1, 30, 0, 4, 8}));
}

TEST(QParams, Int8ChannelDividesBy127p5) {
  const at::Tensor w = matrix(2, 3, {127.5f, -127.5f, 63.5f,  //
                                     -255.0f, 1.0f, 3.0f});
  const QuantizationArgs args = int_args(8, true, Strategy::Channel);
  const QParams qp = observe_weight(w, args);
  EXPECT_EQ(floats(qp.scale), (std::vector<float>{1.0f, 2.0f}));
  // 127.5 → 128 → 127; −127.5 → −128; 63.5 → 64; −127.5 → −128; 0.5 → 0; 1.5 → 2.
  EXPECT_EQ(int_codes(quantize_codes(w, qp, args)), (std::vector<int>{127, -128, 64, -128, 0, 2}));
}

TEST(QParams, Fp8TensorDividesBy448) {
  // absmax 896 → scale 2. 896/2 = 448 → 0x7E; 3/2 = 1.5 → 0x3C; 2.2/2 = 1.1 → nearest 1.125 (0x39);
  // −0.01/2 = −0.005 → subnormal step 2^-9: −0.005·512 = −2.56 → −3 → 0x83.
  const at::Tensor w = matrix(1, 4, {896.0f, 3.0f, 2.2f, -0.01f});
  QuantizationArgs args;
  args.num_bits = 8;
  args.type = QuantType::Float;
  args.strategy = Strategy::Tensor;
  const QParams qp = observe_weight(w, args);
  ASSERT_EQ(qp.scale.sizes(), (at::IntArrayRef{1}));
  EXPECT_EQ(qp.scale.item<float>(), 2.0f);
  EXPECT_EQ(qp.zero_point.item<int>(), 0);
  const at::Tensor codes = quantize_codes(w, qp, args);
  ASSERT_EQ(codes.scalar_type(), at::kByte);
  EXPECT_EQ(int_codes(codes), (std::vector<int>{0x7E, 0x3C, 0x39, 0x83}));
  EXPECT_EQ(floats(dequantize_codes(codes, qp, args)),
            (std::vector<float>{896.0f, 3.0f, 2.25f, -3.0f / 256.0f}));
}

TEST(QParams, ZeroRangeGetsEpsilonScale) {
  const at::Tensor zeros = at::zeros({2}, at::kFloat);
  const QParams symmetric = compute_qparams(zeros, zeros, int_args(4, true, Strategy::Channel));
  EXPECT_EQ(floats(symmetric.scale), (std::vector<float>{FLT_EPSILON, FLT_EPSILON}));
  const QParams asymmetric = compute_qparams(zeros, zeros, int_args(4, false, Strategy::Channel));
  EXPECT_EQ(floats(asymmetric.scale), (std::vector<float>{FLT_EPSILON, FLT_EPSILON}));
  EXPECT_EQ(int_codes(asymmetric.zero_point), (std::vector<int>{0, 0}));
  // 0-dim input gives shape [1].
  const QParams scalar = compute_qparams(at::scalar_tensor(-1.0), at::scalar_tensor(2.0), int_args(8, true, Strategy::Tensor));
  EXPECT_EQ(scalar.scale.sizes(), (at::IntArrayRef{1}));
  EXPECT_FLOAT_EQ(scalar.scale.item<float>(), 2.0f / 127.5f);
}

TEST(QParams, GroupStrategyWithAndWithoutGIdx) {
  const at::Tensor w = matrix(2, 8, {1, -2, 3, -4, 0.5f, 8, -1, 2,  //
                                     -6, 1, 2, 3, 4, 5, 6, 7.5f});
  const QuantizationArgs args = int_args(4, true, Strategy::Group, 4);
  const QParams plain = observe_weight(w, args);
  ASSERT_EQ(plain.scale.sizes(), (at::IntArrayRef{2, 2}));
  EXPECT_EQ(floats(plain.scale), (std::vector<float>{4 / 7.5f, 8 / 7.5f, 6 / 7.5f, 7.5f / 7.5f}));

  // g_idx puts columns {1, 3, 4, 7} in group 0 and {0, 2, 5, 6} in group 1.
  const at::Tensor g_idx = at::tensor(std::vector<int>{1, 0, 1, 0, 0, 1, 1, 0}, at::kInt);
  const QParams permuted = observe_weight(w, args, g_idx);
  // Row 0: group 0 = {−2, −4, 0.5, 2} → 4; group 1 = {1, 3, 8, −1} → 8.
  // Row 1: group 0 = {1, 3, 4, 7.5} → 7.5; group 1 = {−6, 2, 5, 6} → 6.
  EXPECT_EQ(floats(permuted.scale), (std::vector<float>{4 / 7.5f, 8 / 7.5f, 7.5f / 7.5f, 6 / 7.5f}));
  const at::Tensor codes = quantize_codes(w, permuted, args, g_idx);
  const std::vector<float> scale = floats(permuted.scale);
  const std::vector<int> got = int_codes(codes);
  const std::vector<int> groups{1, 0, 1, 0, 0, 1, 1, 0};
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 8; ++c) {
      const float s = scale[r * 2 + groups[c]];
      const float expected = std::nearbyint(std::clamp(w[r][c].item<float>() / s, -8.0f, 7.0f));
      EXPECT_EQ(got[r * 8 + c], static_cast<int>(expected)) << r << "," << c;
    }
  }
  EXPECT_TRUE(at::equal(fake_quantize(w, permuted, args, g_idx), dequantize_codes(codes, permuted, args, g_idx)));
}

TEST(QParams, BlockStrategyUsesOneScalePerBlock) {
  QuantizationArgs args;
  args.num_bits = 8;
  args.type = QuantType::Float;
  args.strategy = Strategy::Block;
  args.block_structure = std::vector<int>{2, 4};
  const at::Tensor w = at::randn({5, 6});
  const QParams qp = observe_weight(w, args);
  ASSERT_EQ(qp.scale.sizes(), (at::IntArrayRef{3, 2}));
  for (int br = 0; br < 3; ++br) {
    for (int bc = 0; bc < 2; ++bc) {
      const at::Tensor block = w.slice(0, br * 2, std::min(5, br * 2 + 2)).slice(1, bc * 4, std::min(6, bc * 4 + 4));
      EXPECT_FLOAT_EQ(qp.scale[br][bc].item<float>(), block.abs().max().item<float>() / 448.0f);
    }
  }
  const at::Tensor codes = quantize_codes(w, qp, args);
  const at::Tensor values = dequantize_codes(codes, qp, args);
  for (int64_t r = 0; r < 5; ++r) {
    for (int64_t c = 0; c < 6; ++c) {
      const float s = qp.scale[r / 2][c / 4].item<float>();
      const float expected = fp8_e4m3_to_float(fp8_e4m3_from_float(w[r][c].item<float>() / s)) * s;
      EXPECT_EQ(values[r][c].item<float>(), expected);
    }
  }
}

TEST(QParams, RejectsMismatchedShapesAndGroups) {
  const at::Tensor w = at::randn({4, 12});
  EXPECT_THROW(observe_weight(w, int_args(4, true, Strategy::Group, 5)), QuantConfigError);
  const QParams channel = observe_weight(w, int_args(4, true, Strategy::Channel));
  EXPECT_THROW(quantize_codes(w, channel, int_args(4, true, Strategy::Group, 4)), std::invalid_argument);
  EXPECT_THROW(quantize_codes(w.to(at::kDouble), channel, int_args(4, true, Strategy::Channel)), std::invalid_argument);
  EXPECT_THROW(dequantize_codes(at::zeros({4, 12}, at::kByte), channel, int_args(4, true, Strategy::Channel)),
               std::invalid_argument);
  QuantizationArgs asymmetric_fp8;
  asymmetric_fp8.type = QuantType::Float;
  asymmetric_fp8.symmetric = false;
  asymmetric_fp8.strategy = Strategy::Tensor;
  EXPECT_THROW(observe_weight(w, asymmetric_fp8), QuantConfigError);
}

}  // namespace
}  // namespace dcomp::quant
