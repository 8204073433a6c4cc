// Scales, zero points, global scales and codes of a BF16 (and F16) model against compressed-tensors
// 0.19 run by torch 2.14 on BF16 (F16) tensors (calculate_qparams, generate_gparam, quantize, dequantize;
// the expected values below are what those functions returned): every step is rounded to BF16,
// where FP32 arithmetic gives other scales, zero points and codes.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <vector>

#include "kernels/quant/float_dtype.hpp"
#include "kernels/quant/gptq.hpp"
#include "kernels/quant/observers.hpp"
#include "kernels/quant/qparams.hpp"
#include "kernels/quant/quant_grid.hpp"
#include "tests/quant/int_quant_args.hpp"

namespace dcomp::quant {
namespace model_dtype_test {

QuantizationArgs bf16_args(QuantizationArgs args) {
  args.model_dtype = FloatDType::BF16;
  return args;
}

at::Tensor rows_of(int64_t rows, int64_t cols, const std::vector<float>& values) {
  return at::tensor(values, at::kFloat).reshape({rows, cols});
}

std::vector<float> values_of(const at::Tensor& t) {
  const at::Tensor flat = t.to(at::kFloat).reshape({-1}).contiguous();
  return {flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel()};
}

std::vector<int> ints_of(const at::Tensor& t) {
  const at::Tensor flat = t.to(at::kInt).reshape({-1}).contiguous();
  return {flat.data_ptr<int>(), flat.data_ptr<int>() + flat.numel()};
}

// One channel scale (and zero point) per row.
QParams channel_qparams(const std::vector<float>& scales, const std::vector<int>& zero_points) {
  QParams qparams;
  qparams.scale = at::tensor(scales, at::kFloat).reshape({-1, 1});
  qparams.zero_point = at::tensor(zero_points, at::kInt).reshape({-1, 1});
  return qparams;
}

TEST(ModelDtypeQParams, Bf16SymmetricInt4ScalesAreRoundedQuotientsAndAZeroRangeGetsBf16Eps) {
  const at::Tensor w = rows_of(3, 2, {-0.3359375f, 0.2109375f, -0.0107421875f, 0.01318359375f, 0.0f, 0.0f});
  const QParams bf16 = observe_weight(w, bf16_args(test::int_args(4, true, Strategy::Channel)));
  EXPECT_EQ(values_of(bf16.scale), (std::vector<float>{0.044677734375f, 0.0017547607421875f, 0.0078125f}));
  const QParams fp32 = observe_weight(w, test::int_args(4, true, Strategy::Channel));
  EXPECT_EQ(values_of(fp32.scale)[0], 0.3359375f / 7.5f);  // FP32 models keep the unrounded quotient
  EXPECT_NE(values_of(fp32.scale)[0], 0.044677734375f);
}

TEST(ModelDtypeQParams, Bf16AsymmetricScalesAndZeroPointsFollowBf16Steps) {
  const at::Tensor w4 = rows_of(2, 2, {-0.0830078125f, 0.2109375f, -0.3359375f, 0.01318359375f});
  const QParams int4 = observe_weight(w4, bf16_args(test::int_args(4, false, Strategy::Channel)));
  EXPECT_EQ(values_of(int4.scale), (std::vector<float>{0.01953125f, 0.0233154296875f}));
  EXPECT_EQ(ints_of(int4.zero_point), (std::vector<int>{-4, 6}));
  // −128 − bf16(min / scale) = −128 − (−126.5) = −1.5 → −2, where FP32 gives −128 + 126.52 → −1.
  const at::Tensor w8 = rows_of(1, 2, {-0.1669921875f, 0.16796875f});
  const QParams int8 = observe_weight(w8, bf16_args(test::int_args(8, false, Strategy::Channel)));
  EXPECT_EQ(values_of(int8.scale), (std::vector<float>{0.00131988525390625f}));
  EXPECT_EQ(ints_of(int8.zero_point), (std::vector<int>{-2}));
  EXPECT_EQ(ints_of(observe_weight(w8, test::int_args(8, false, Strategy::Channel)).zero_point),
            (std::vector<int>{-1}));
}

TEST(ModelDtypeQParams, Bf16Int4CodesDivideInBf16) {
  const QuantizationArgs args = bf16_args(test::int_args(4, true, Strategy::Channel));
  const at::Tensor w = rows_of(1, 3, {-0.291015625f, -0.2451171875f, -0.201171875f});
  const QParams qparams = channel_qparams({0.044677734375f}, {0});
  EXPECT_EQ(ints_of(quantize_codes(w, qparams, args)), (std::vector<int>{-6, -6, -4}));
  EXPECT_EQ(ints_of(quantize_codes(w, qparams, test::int_args(4, true, Strategy::Channel))),
            (std::vector<int>{-7, -5, -5}));
}

TEST(ModelDtypeQParams, Bf16Fp8CodesDivideInBf16) {
  QuantizationArgs args;
  args.num_bits = 8;
  args.type = QuantType::Float;
  args.strategy = Strategy::Tensor;
  QParams qparams;
  qparams.scale = at::full({1}, 0.00098419189453125f, at::kFloat);
  qparams.zero_point = at::zeros({1}, at::kInt);
  const at::Tensor w = rows_of(1, 3, {-0.024658203125f, -0.04931640625f, -0.05712890625f});
  EXPECT_EQ(ints_of(quantize_codes(w, qparams, bf16_args(args))), (std::vector<int>{220, 228, 230}));
  EXPECT_EQ(ints_of(quantize_codes(w, qparams, args)), (std::vector<int>{221, 229, 231}));
}

TEST(ModelDtypeQParams, Bf16DequantizedValuesAreRoundedToBf16) {
  const QuantizationArgs args = bf16_args(test::int_args(4, true, Strategy::Channel));
  const at::Tensor codes = at::tensor(std::vector<int8_t>{7, -3, 5}, at::kChar).reshape({1, 3});
  EXPECT_EQ(values_of(dequantize_codes(codes, channel_qparams({0.044677734375f}, {0}), args)),
            (std::vector<float>{0.3125f, -0.1337890625f, 0.2236328125f}));
}

TEST(ModelDtypeQParams, Bf16Nvfp4GlobalScaleIsComputedInBf16) {
  EXPECT_EQ(fp4_global_scale(0.0023345947265625f, FloatDType::BF16), 1146880.0f);
  EXPECT_EQ(fp4_global_scale(0.5859375f, FloatDType::BF16), 4576.0f);
  EXPECT_EQ(fp4_global_scale(3.03057137e-39f, FloatDType::BF16), 1.0f);  // 2688 / tiny overflows BF16
  EXPECT_EQ(fp4_global_scale(0.5859375f), (1.0f / 0.5859375f) * 2688.0f);  // FP32 models: unchanged
  EXPECT_NE(fp4_global_scale(0.5859375f), 4576.0f);
}

TEST(ModelDtypeQParams, Bf16GptqStoresTheCodesOfItsBf16WeightWithTheBf16Scales) {
  // A W8 channel GPTQ on a BF16 model: the dequantized weight is BF16 (fake_quantize multiplies in
  // the scale's dtype) and the codes are those quantize_codes gives that weight with the stored
  // scales, as llm-compressor's compressor derives them.
  at::manual_seed(0);
  const at::Tensor weight = at::randn({16, 64}, at::TensorOptions().dtype(at::kFloat)).mul_(0.05f)
                                .to(at::kBFloat16).to(at::kFloat);
  const at::Tensor x = at::randn({256, 64}, at::kFloat);
  const at::Tensor hessian = x.t().mm(x).mul_(2.0f / 256.0f);
  QuantizationArgs args = bf16_args(test::int_args(8, true, Strategy::Channel));
  const GptqResult result = gptq_quantize(weight, hessian, args, GptqOptions{});
  EXPECT_TRUE(at::equal(result.dequantized, result.dequantized.to(at::kBFloat16).to(at::kFloat)));
  EXPECT_TRUE(at::equal(result.qparams.scale, result.qparams.scale.to(at::kBFloat16).to(at::kFloat)));
  EXPECT_TRUE(at::equal(result.codes, quantize_codes(result.dequantized, result.qparams, args)));
}

TEST(ModelDtypeQParams, F16ScalesCodesAndGlobalScalesFollowF16Steps) {
  QuantizationArgs args = test::int_args(4, true, Strategy::Channel);
  args.model_dtype = FloatDType::F16;
  const at::Tensor w = rows_of(2, 2, {-0.3359375f, 0.2109375f, 0.0f, 0.0f});
  EXPECT_EQ(values_of(observe_weight(w, args).scale), (std::vector<float>{0.0447998046875f, 0.0009765625f}));
  const at::Tensor x = rows_of(1, 3, {-0.335693359375f, -0.291015625f, -0.2462158203125f});
  EXPECT_EQ(ints_of(quantize_codes(x, channel_qparams({0.044769287109375f}, {0}), args)),
            (std::vector<int>{-8, -6, -6}));  // FP32 division: −7, −7, −5
  EXPECT_EQ(fp4_global_scale(0.0023345947265625f, FloatDType::F16), 1.0f);  // 2688 / absmax overflows F16
  EXPECT_EQ(fp4_global_scale(0.5859375f, FloatDType::F16), 4588.0f);
  EXPECT_EQ(fp4_global_scale(1.0013580322265625e-05f, FloatDType::F16), 1.0f);  // clamped to F16's tiny first
}

TEST(ModelDtypeQParams, Bf16GptqGivesTheSameBytesInEveryColumnLoop) {
  // The AVX-512 loop falls back to QuantGrid lane by lane for a BF16 model; the portable loop and
  // the tensor-ops loop (what a GPU runs) round the same steps.
  at::manual_seed(1);
  const at::Tensor weight = at::randn({32, 256}, at::kFloat).mul_(0.05f).to(at::kBFloat16).to(at::kFloat);
  const at::Tensor x = at::randn({512, 256}, at::kFloat);
  const at::Tensor hessian = x.t().mm(x).mul_(2.0f / 512.0f);
  for (const bool symmetric : {true, false}) {
    const QuantizationArgs args = bf16_args(test::int_args(4, symmetric, Strategy::Group, 64));
    GptqOptions vectorized;
    GptqOptions portable;
    portable.vectorized = false;
    GptqOptions tensor_ops;
    tensor_ops.solver = GptqSolver::TensorOps;
    const GptqResult reference = gptq_quantize(weight, hessian, args, vectorized);
    for (const GptqOptions& options : {portable, tensor_ops}) {
      const GptqResult other = gptq_quantize(weight, hessian, args, options);
      EXPECT_TRUE(at::equal(other.codes, reference.codes)) << "symmetric " << symmetric;
      EXPECT_TRUE(at::equal(other.dequantized, reference.dequantized)) << "symmetric " << symmetric;
      EXPECT_EQ(other.loss, reference.loss) << "symmetric " << symmetric;
    }
  }
}

}  // namespace model_dtype_test
}  // namespace dcomp::quant
