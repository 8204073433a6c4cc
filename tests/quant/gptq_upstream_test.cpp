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
#include "tests/quant/upstream_gptq_loop.hpp"

namespace dcomp::quant {
namespace {

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
  const at::Tensor expected = testing::upstream_codes(w, h, result.qparams, args, c.block_size, options.dampening_frac);
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
