// `dcomp create-model --architecture deepseek_v3 --fp8-block B` at a small shape: the model's
// decoder Linears are F8_E4M3 with F32 weight_scale_inv grids of ceil(rows / B) × ceil(cols / B)
// (kv_a_proj_with_mqa's 576 rows: a partial block), and decoded by the rule
// e4m3(w[r][c]) · scale[r / B][c / B] (a plain loop here) they are the same seed's dense fp32
// weights within E4M3's rounding, each block's largest magnitude stored as ±448 (scale =
// absmax / 448); routers, norms and embeddings stay in the model's dtype and the correction
// bias in F32, as DeepSeek-V3's release; config.json carries the release's quantization_config.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "kernels/ct/fp8_block_checkpoint.hpp"
#include "kernels/ct/fp8_block_encoding.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/synthetic_model.hpp"
#include "kernels/quant/fp8_e4m3.hpp"
#include "tests/ct/ct_test_support.hpp"
#include "kernels/io/name_affixes.hpp"

namespace dcomp::ct {
namespace {

constexpr int64_t kBlock = 128;

// The release's MLA sizes with hidden 256, 2 heads, 4 experts in 2 groups; layer 0 dense.
model::SyntheticModelOptions small_deepseek(const std::string& dtype) {
  model::SyntheticModelOptions o = model::deepseek_v3_release_options();
  o.num_layers = 2;
  o.hidden_size = 256;
  o.intermediate_size = 384;
  o.num_attention_heads = 2;
  o.num_key_value_heads = 2;
  o.num_experts = 4;
  o.experts_per_token = 2;
  o.expert_intermediate_size = 128;
  o.vocab_size = 258;
  o.deepseek.n_group = 2;
  o.deepseek.topk_group = 1;
  o.deepseek.first_k_dense_replace = 1;
  o.dtype = dtype;
  o.seed = 11;
  return o;
}


// Decodes codes [rows, cols] with scale [ceil(rows / B), ceil(cols / B)] element by element and
// checks them against the dense weights; returns the worst error over the allowed one.
void expect_block_rule(const std::string& name, const at::Tensor& codes, const at::Tensor& scale,
                       const at::Tensor& dense) {
  const int64_t rows = codes.size(0), columns = codes.size(1);
  ASSERT_EQ(scale.size(0), (rows + kBlock - 1) / kBlock) << name;
  ASSERT_EQ(scale.size(1), (columns + kBlock - 1) / kBlock) << name;
  const at::Tensor c = codes.contiguous(), s = scale.contiguous(), d = dense.contiguous();
  const uint8_t* code = c.data_ptr<uint8_t>();
  const float* block_scale = s.data_ptr<float>();
  const float* w = d.data_ptr<float>();
  at::Tensor largest = at::zeros(scale.sizes(), at::kFloat), dense_largest = at::zeros(scale.sizes(), at::kFloat);
  float* largest_code = largest.data_ptr<float>();
  float* largest_dense = dense_largest.data_ptr<float>();
  int64_t outside = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t col = 0; col < columns; ++col) {
      const int64_t block = (r / kBlock) * scale.size(1) + col / kBlock;
      const float e4m3 = quant::fp8_e4m3_to_float(code[r * columns + col]);
      const float decoded = e4m3 * block_scale[block], reference = w[r * columns + col];
      // Half an E4M3 step: 2^-4 of the value (3 mantissa bits), 2^-10 of the scale below 2^-6.
      const float allowed = std::ldexp(std::fabs(reference), -4) + std::ldexp(block_scale[block], -10) + 1e-12f;
      if (!(std::fabs(decoded - reference) <= allowed)) ++outside;
      largest_code[block] = std::max(largest_code[block], std::fabs(e4m3));
      largest_dense[block] = std::max(largest_dense[block], std::fabs(reference));
    }
  }
  EXPECT_EQ(outside, 0) << name << ": elements off their dense values by more than E4M3 rounding";
  EXPECT_TRUE(at::all(largest.eq(quant::kFp8E4m3Max)).item<bool>()) << name << ": a block's largest code is not 448";
  EXPECT_TRUE(at::allclose(scale * quant::kFp8E4m3Max, dense_largest, 1e-6, 0)) << name << ": scale is not absmax / 448";
}

TEST(SyntheticFp8BlockModel, DeepseekV3LinearsDecodeByTheBlockRuleToTheDenseWeights) {
  testing::ScratchDir scratch;
  const model::SyntheticLinearStorage storage = fp8_block_linear_storage({kBlock, kBlock});
  model::create_synthetic_model(scratch.path() / "fp8", small_deepseek("bfloat16"), &storage);
  model::create_synthetic_model(scratch.path() / "dense", small_deepseek("float32"));
  const io::CheckpointReader fp8(scratch.path() / "fp8"), dense(scratch.path() / "dense");

  int64_t linears = 0;
  for (const std::string& name : dense.names()) {
    const bool linear = name.rfind("model.layers.", 0) == 0 &&
                        (io::ends_with(name, "_proj.weight") || io::ends_with(name, "_proj_with_mqa.weight"));
    if (!linear) {
      // Norms, router, embedding and head: the model's BF16; the correction bias F32.
      const bool bias = io::ends_with(name, "e_score_correction_bias");
      EXPECT_EQ(fp8.info(name).dtype, bias ? io::DType::F32 : io::DType::BF16) << name;
      const at::Tensor expected = bias ? dense.load(name) : dense.load(name).to(at::kBFloat16);
      EXPECT_TRUE(at::equal(fp8.load(name), expected)) << name;
      continue;
    }
    ++linears;
    const std::string module = name.substr(0, name.size() - 7);
    ASSERT_EQ(fp8.info(name).dtype, io::DType::F8_E4M3) << name;
    ASSERT_EQ(fp8.info(module + ".weight_scale_inv").dtype, io::DType::F32) << name;
    expect_block_rule(name, fp8.load(name), fp8.load(module + ".weight_scale_inv"), dense.load(name));
  }
  // Layer 0: 5 attention + 3 MLP; layer 1: 5 attention + 3 × (4 experts + 1 shared).
  EXPECT_EQ(linears, 8 + 5 + 15);
  EXPECT_EQ(fp8.info("model.layers.1.self_attn.kv_a_proj_with_mqa.weight").shape, (std::vector<int64_t>{576, 256}));
  EXPECT_EQ(fp8.info("model.layers.1.self_attn.kv_a_proj_with_mqa.weight_scale_inv").shape,
            (std::vector<int64_t>{5, 2}));

  // The checkpoint reader's own decoding is the same rule.
  const auto loader = fp8_block_linear_loader(scratch.path() / "fp8", {kBlock, kBlock});
  const std::string kv_a = "model.layers.1.self_attn.kv_a_proj_with_mqa";
  EXPECT_TRUE(at::equal(loader(kv_a).weight,
                        quant::decode_fp8_e4m3(fp8.load(kv_a + ".weight")) *
                            fp8.load(kv_a + ".weight_scale_inv").repeat_interleave(kBlock, 0).slice(0, 0, 576)
                                .repeat_interleave(kBlock, 1)));

  const nlohmann::json config = nlohmann::json::parse(std::ifstream(scratch.path() / "fp8" / "config.json"));
  EXPECT_EQ(config.at("quantization_config"),
            nlohmann::json::parse(R"({"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                                      "weight_block_size": [128, 128]})"));
  EXPECT_EQ(config.at("architectures"), nlohmann::json::parse(R"(["DeepseekV3ForCausalLM"])"));
  EXPECT_EQ(config.at("kv_lora_rank"), 512);
  EXPECT_EQ(config.at("routed_scaling_factor"), 2.5);
  EXPECT_FALSE(nlohmann::json::parse(std::ifstream(scratch.path() / "dense" / "config.json")).contains("quantization_config"));
}

TEST(SyntheticFp8BlockModel, RoutingTheConfigReaderRefusesIsRefusedBeforeAnyFile) {
  testing::ScratchDir scratch;
  model::SyntheticModelOptions o = small_deepseek("bfloat16");
  o.deepseek.n_group = 3;  // 4 experts do not split into 3 groups
  try {
    model::create_synthetic_model(scratch.path() / "model", o);
    FAIL() << "4 experts in 3 groups were accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("n_routed_experts 4 must split into n_group 3"), std::string::npos)
        << error.what();
  }
  EXPECT_FALSE(std::filesystem::exists(scratch.path() / "model"));
}

TEST(SyntheticFp8BlockModel, EncodingKeepsZeroBlocksAndPartialEdges) {
  // 130 × 3 in blocks of 128: rows 128.. form a partial block; an all-zero block gets scale 1.
  at::Tensor weight = at::zeros({130, 3}, at::kFloat);
  weight[129][2] = -3.5f;
  const Fp8BlockWeight encoded = encode_fp8_blocks(weight, {128, 128});
  ASSERT_EQ(encoded.scale_inv.sizes(), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(encoded.scale_inv[0][0].item<float>(), 1.0f);
  EXPECT_EQ(encoded.scale_inv[1][0].item<float>(), 3.5f / 448.0f);
  EXPECT_EQ(encoded.codes[129][2].item<uint8_t>(), 0xFE);  // -448
  EXPECT_EQ(encoded.codes.sum().item<int64_t>(), 0xFE);
}

}  // namespace
}  // namespace dcomp::ct
