// FP8 block checkpoints (DeepSeek-V3 / Qwen3 -FP8 releases): the block dequantization against a
// plain loop over the elements (partial blocks at both edges, F32 and E8M0 scales), the config
// parsing and its refusals, and a real model (TinyStories-656K) rewritten in the format and
// loaded through make_linear_loader against the same weights dequantized by the loop.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <string>

#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/ct/fp8_block_checkpoint.hpp"
#include "kernels/ct/linear_decoding.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/causal_lm.hpp"
#include "kernels/quant/fp8_e4m3.hpp"
#include "tests/ct/ct_test_support.hpp"
#include "tests/support/fp8_block_model.hpp"
#include "tests/support/shared_data.hpp"

namespace dcomp::ct {
namespace {

// Finite E4M3 codes (0x7F and 0xFF are NaN).
at::Tensor random_codes(int64_t rows, int64_t columns) {
  at::Tensor codes = at::randint(0, 256, {rows, columns}, at::kLong).to(at::kByte);
  codes.masked_fill_(codes.bitwise_and(0x7F).eq(0x7F), 0x7E);
  return codes;
}

at::Tensor loop_dequantized(const at::Tensor& codes, const at::Tensor& scale, int64_t b0, int64_t b1) {
  at::Tensor out = at::empty(codes.sizes(), at::kFloat);
  for (int64_t r = 0; r < codes.size(0); ++r) {
    for (int64_t c = 0; c < codes.size(1); ++c) {
      out[r][c] = quant::fp8_e4m3_to_float(codes[r][c].item<uint8_t>()) * scale[r / b0][c / b1].item<float>();
    }
  }
  return out;
}

TEST(Fp8BlockCheckpoint, DequantizationIsTheBlockRuleWithPartialEdgeBlocks) {
  at::manual_seed(4);
  // 130 × 70 in blocks of 64 × 32: three block rows (the last of 2 rows), three block columns
  // (the last of 6 columns), as DeepSeek-V3's 576-row kv_a_proj_with_mqa in blocks of 128.
  const at::Tensor codes = random_codes(130, 70);
  const at::Tensor scale = at::rand({3, 3}) * 0.01 + 1e-4;
  const at::Tensor got = dequantize_fp8_blocks(codes, scale, {64, 32}, "w.weight_scale_inv");
  EXPECT_TRUE(at::equal(got, loop_dequantized(codes, scale, 64, 32)));
  // transformers 5.17 would take the block from the grid (130 / 3, 70 / 3): not the rule.
  try {
    dequantize_fp8_blocks(codes, at::ones({2, 3}), {64, 32}, "model.safetensors: w.weight_scale_inv");
    FAIL() << "a 2 × 3 grid for 130 rows in blocks of 64 was accepted";
  } catch (const DecodingError& error) {
    EXPECT_NE(std::string(error.what()).find("w.weight_scale_inv has shape [2, 3] but a [130, 70] weight in blocks "
                                             "of [64, 32] needs [3, 3]"),
              std::string::npos)
        << error.what();
  }
}

TEST(Fp8BlockCheckpoint, LoaderReadsE8M0ScalesAndRefusesAWeightWithoutScales) {
  at::manual_seed(5);
  testing::ScratchDir scratch;
  const at::Tensor codes = random_codes(20, 12);
  const at::Tensor exponents = at::randint(118, 130, {3, 2}, at::kLong).to(at::kByte);  // 2^(e − 127)
  io::write_safetensors(scratch.path() / "model.safetensors",
                        {{"a.weight", codes, io::DType::F8_E4M3},
                         {"a.weight_scale_inv", exponents, io::DType::F8_E8M0},
                         {"b.weight", codes, io::DType::F8_E4M3}});
  const model::LinearLoader loader = fp8_block_linear_loader(scratch.path(), {8, 8});
  const at::Tensor scale = at::pow(2.0, exponents.to(at::kDouble) - 127.0).to(at::kFloat);
  EXPECT_TRUE(at::equal(loader("a").weight, loop_dequantized(codes, scale, 8, 8)));
  try {
    loader("b");
    FAIL() << "an F8_E4M3 weight without weight_scale_inv was read";
  } catch (const DecodingError& error) {
    EXPECT_NE(std::string(error.what()).find("b.weight is F8_E4M3 but b.weight_scale_inv"), std::string::npos)
        << error.what();
  }
}

TEST(Fp8BlockCheckpoint, ConfigIsParsedAndMalformedOnesAreRefusedByName) {
  const auto format = fp8_block_format(
      {{"quant_method", "fp8"}, {"fmt", "e4m3"}, {"activation_scheme", "dynamic"}, {"weight_block_size", {128, 64}}},
      "config.json");
  ASSERT_TRUE(format.has_value());
  EXPECT_EQ(format->block_rows, 128);
  EXPECT_EQ(format->block_columns, 64);
  EXPECT_FALSE(fp8_block_format({{"quant_method", "compressed-tensors"}}, "config.json").has_value());
  EXPECT_THROW(fp8_block_format({{"quant_method", "fp8"}}, "config.json"), DecodingError);
  EXPECT_THROW(fp8_block_format({{"quant_method", "fp8"}, {"weight_block_size", {128}}}, "config.json"), DecodingError);
  EXPECT_THROW(fp8_block_format({{"quant_method", "fp8"}, {"weight_block_size", {0, 128}}}, "config.json"),
               DecodingError);
  EXPECT_THROW(fp8_block_format({{"quant_method", "fp8"}, {"fmt", "e5m2"}, {"weight_block_size", {128, 128}}},
                                "config.json"),
               DecodingError);
}

TEST(Fp8BlockCheckpoint, RealModelLoadsAsItsDequantizedWeights) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  testing::ScratchDir scratch;
  // TinyStories-656K: hidden 128, intermediate 384; blocks of 48 × 40 leave partial blocks.
  const dcomp::testing::Fp8BlockModels models =
      dcomp::testing::write_fp8_block_models(data / "tinystories-656k", scratch.path(), 48, 40);
  const model::CausalLM fp8 = model::CausalLM::load(models.fp8, make_linear_loader(models.fp8));
  const model::CausalLM reference = model::CausalLM::load(models.reference);
  const at::Tensor ids = at::arange(1, 40, at::kLong).unsqueeze(0);
  EXPECT_TRUE(at::equal(fp8.forward(ids), reference.forward(ids)));
  // Without the loader the model code refuses the quantized checkpoint rather than misreading it.
  EXPECT_THROW(model::CausalLM::load(models.fp8), std::exception);
}

}  // namespace
}  // namespace dcomp::ct
