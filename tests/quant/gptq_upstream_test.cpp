// gptq_quantize against a transcription of upstream's fp32 loop in tensor ops
// (llm-compressor gptq_quantize.py quantize_weight: Cholesky → cholesky_inverse →
// upper Cholesky, then per-column quantize / error / outer-product update inside each
// block and one matmul per block), with the same scales: the codes must agree exactly,
// not only up to rounding ties. And the AVX-512 column loop against the portable one.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <tuple>

#include "kernels/quant/gptq.hpp"
#include "kernels/quant/observers.hpp"
#include "tests/quant/reference_linalg.hpp"

namespace dcomp::quant {
namespace {

// Upstream's loop op for op, for Int grids with Channel ([out, 1]) or Group
// ([out, groups]) scales; actorder None or Static. Returns the codes [out, in] in the
// original column order.
at::Tensor upstream_codes(const at::Tensor& weight, const at::Tensor& hessian, const QParams& qparams,
                          const QuantizationArgs& args, int64_t block_size, double percdamp) {
  const int64_t columns = weight.size(1);
  const float q_min = -static_cast<float>(int64_t{1} << (args.num_bits - 1));
  const float q_max = static_cast<float>((int64_t{1} << (args.num_bits - 1)) - 1);
  at::Tensor w = weight.clone();
  at::Tensor h = hessian.clone();
  at::Tensor perm = at::arange(columns, at::kLong);
  if (args.actorder == ActOrder::Static) {
    perm = std::get<1>(at::sort(h.diagonal(), /*stable=*/true, 0, /*descending=*/true));
    w = w.index_select(1, perm);
    h = h.index_select(0, perm).index_select(1, perm);
  }
  const int64_t group_size = args.strategy == Strategy::Group ? *args.group_size : columns;
  const at::Tensor group = at::arange(columns, at::kLong).div(group_size, "floor").index_select(0, perm).contiguous();
  const at::Tensor scale = qparams.scale;
  const at::Tensor zero_point = qparams.zero_point.to(at::kFloat);

  const at::Tensor dead = h.diagonal().eq(0);
  h.diagonal().masked_fill_(dead, 1.0);
  w.masked_fill_(dead.unsqueeze(0), 0.0);
  h.diagonal().add_(static_cast<float>(percdamp) * h.diagonal().mean().item<float>());
  const at::Tensor hinv = at::linalg_cholesky(at::cholesky_inverse(at::linalg_cholesky(h)), /*upper=*/true);

  at::Tensor codes = at::empty(w.sizes(), at::kChar);
  for (int64_t i1 = 0; i1 < columns; i1 += block_size) {
    const int64_t i2 = std::min(i1 + block_size, columns);
    const int64_t count = i2 - i1;
    at::Tensor w1 = w.slice(1, i1, i2).clone();
    at::Tensor q1 = at::zeros_like(w1);
    at::Tensor err1 = at::zeros_like(w1);
    const at::Tensor hinv1 = hinv.slice(0, i1, i2).slice(1, i1, i2);
    for (int64_t i = 0; i < count; ++i) {
      const at::Tensor col = w1.select(1, i);
      const at::Tensor d = hinv1[i][i];
      const int64_t g = group[i1 + i].item<int64_t>();
      const at::Tensor s = scale.select(1, g);
      const at::Tensor z = zero_point.select(1, g);
      const at::Tensor integer = (col / s + z).clamp(q_min, q_max).round();
      const at::Tensor q = (integer - z) * s;
      codes.select(1, i1 + i).copy_(integer);
      q1.select(1, i).copy_(q);
      const at::Tensor err = (col - q) / d;
      w1.slice(1, i, count).sub_(err.unsqueeze(1).matmul(hinv1.select(0, i).slice(0, i, count).unsqueeze(0)));
      err1.select(1, i).copy_(err);
    }
    w.slice(1, i1, i2).copy_(q1);
    if (i2 < columns) w.slice(1, i2, columns).sub_(err1.matmul(hinv.slice(0, i1, i2).slice(1, i2, columns)));
  }
  return codes.index_select(1, at::argsort(perm));
}

struct UpstreamCase {
  std::string name;
  int bits;
  bool symmetric;
  Strategy strategy;
  ActOrder actorder;
  int64_t rows;
  int64_t cols;
  int64_t block_size;
};

class GptqMatchesUpstreamLoop : public ::testing::TestWithParam<UpstreamCase> {};

TEST_P(GptqMatchesUpstreamLoop, SameCodes) {
  const UpstreamCase& c = GetParam();
  QuantizationArgs args;
  args.num_bits = c.bits;
  args.symmetric = c.symmetric;
  args.strategy = c.strategy;
  if (c.strategy == Strategy::Group) args.group_size = 32;
  args.actorder = c.actorder;
  const at::Tensor x = testing::correlated_inputs(2 * c.cols, c.cols, 1234 + static_cast<uint64_t>(c.cols));
  const at::Tensor h = testing::hessian_of(x);
  at::manual_seed(77);
  const at::Tensor w = at::randn({c.rows, c.cols}) * 0.05;
  GptqOptions options;
  options.block_size = c.block_size;
  const GptqResult result = gptq_quantize(w, h, args, options);
  ASSERT_FALSE(result.fell_back_to_rtn);
  const at::Tensor expected = upstream_codes(w, h, result.qparams, args, c.block_size, options.dampening_frac);
  EXPECT_EQ(result.codes.ne(expected).sum().item<int64_t>(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Int, GptqMatchesUpstreamLoop,
    ::testing::Values(UpstreamCase{"w4_group32_static", 4, true, Strategy::Group, ActOrder::Static, 40, 256, 64},
                      UpstreamCase{"w4_asym_group32_none", 4, false, Strategy::Group, ActOrder::None, 33, 192, 48},
                      UpstreamCase{"w8_channel_static", 8, true, Strategy::Channel, ActOrder::Static, 17, 200, 48},
                      UpstreamCase{"w4_group32_static_wide", 4, true, Strategy::Group, ActOrder::Static, 300, 384,
                                   128}),
    [](const ::testing::TestParamInfo<UpstreamCase>& info) { return info.param.name; });

TEST(GptqColumnLoop, VectorizedAndPortableAgreeBitForBit) {
  const at::Tensor h = testing::hessian_of(testing::correlated_inputs(300, 96, 5));
  at::manual_seed(6);
  const at::Tensor w = at::randn({37, 96});
  for (const bool fp8 : {false, true}) {
    for (const ActOrder actorder : {ActOrder::None, ActOrder::Static, ActOrder::Group}) {
      QuantizationArgs args;
      args.num_bits = fp8 ? 8 : 4;
      args.type = fp8 ? QuantType::Float : QuantType::Int;
      args.symmetric = fp8 || actorder != ActOrder::Static;
      args.strategy = Strategy::Group;
      args.group_size = 16;
      args.actorder = actorder;
      GptqOptions options;
      options.block_size = 40;
      const GptqResult vectorized = gptq_quantize(w, h, args, options);
      options.vectorized = false;
      const GptqResult portable = gptq_quantize(w, h, args, options);
      EXPECT_TRUE(at::equal(vectorized.codes, portable.codes));
      EXPECT_TRUE(at::equal(vectorized.dequantized, portable.dequantized));
      EXPECT_EQ(vectorized.loss, portable.loss);
    }
  }
}

}  // namespace
}  // namespace dcomp::quant
