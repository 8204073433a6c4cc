// Mixture-of-experts config.json fields (Mixtral, Qwen3-MoE): defaults as transformers sets
// them, which layers are sparse, each layer's layout, and the refusal of routing modes and
// expert designs dcomp does not run, naming the field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kernels/model/layer_layout.hpp"
#include "kernels/model/model_config.hpp"
#include "tests/model/config_json_fixtures.hpp"

namespace dcomp::model {
namespace {

using ::testing::HasSubstr;

nlohmann::json qwen3_moe() { return testing::qwen3_moe_config(); }

std::string moe_config_error(const nlohmann::json& json) {
  return testing::config_error(json, "/models/moe/config.json");
}

TEST(MoeConfig, Qwen3MoeDefaultsAndSparseLayers) {
  nlohmann::json json = qwen3_moe();
  json["decoder_sparse_step"] = 2;
  json["mlp_only_layers"] = {3};
  const ModelConfig config = ModelConfig::from_json(json);
  ASSERT_TRUE(config.moe);
  EXPECT_EQ(config.moe->num_experts, 8);
  EXPECT_EQ(config.moe->top_k, 2);
  EXPECT_EQ(config.moe->expert_intermediate_size, 32);
  EXPECT_FALSE(config.moe->norm_topk_prob);  // transformers' default for Qwen3-MoE
  EXPECT_TRUE(config.qk_norm);
  // transformers: sparse when not in mlp_only_layers and (i + 1) % decoder_sparse_step == 0.
  EXPECT_FALSE(config.is_sparse_layer(0));
  EXPECT_TRUE(config.is_sparse_layer(1));
  EXPECT_FALSE(config.is_sparse_layer(2));
  EXPECT_FALSE(config.is_sparse_layer(3));

  const LayerLayout dense = decoder_layer_layout(config, 0);
  EXPECT_FALSE(dense.sparse);
  EXPECT_EQ(dense.linear_names().back(), "mlp.down_proj");
  const LayerLayout sparse = decoder_layer_layout(config, 1);
  ASSERT_TRUE(sparse.sparse);
  EXPECT_EQ(sparse.router(), "mlp.gate");
  EXPECT_EQ(sparse.linears.size(), 4u + 1u + 8u * 3u);
  EXPECT_EQ(sparse.input_of("mlp.gate").key, "post_attention_layernorm");
  EXPECT_EQ(sparse.input_of("mlp.experts.5.up_proj").key, "mlp.experts.5.gate_proj");
  EXPECT_EQ(sparse.input_of("mlp.experts.5.up_proj").expert, 5);
  EXPECT_EQ(sparse.find("mlp.experts.7.down_proj")->in_features, 32);
  EXPECT_EQ(sparse.find("mlp.gate")->out_features, 8);
}

TEST(MoeConfig, MixtralNamesAndAlwaysRenormalises) {
  const ModelConfig config = ModelConfig::from_json({{"architectures", {"MixtralForCausalLM"}},
                                                     {"hidden_size", 64},
                                                     {"intermediate_size", 48},
                                                     {"num_hidden_layers", 2},
                                                     {"num_attention_heads", 4},
                                                     {"num_local_experts", 4},
                                                     {"vocab_size", 100},
                                                     {"max_position_embeddings", 256},
                                                     {"rms_norm_eps", 1e-5},
                                                     {"router_jitter_noise", 0.1}});
  ASSERT_TRUE(config.moe);
  EXPECT_EQ(config.moe->num_experts, 4);
  EXPECT_EQ(config.moe->top_k, 2);  // transformers' default
  EXPECT_EQ(config.moe->expert_intermediate_size, 48);
  EXPECT_TRUE(config.moe->norm_topk_prob);
  const LayerLayout layout = decoder_layer_layout(config, 1);
  EXPECT_EQ(layout.router(), "block_sparse_moe.gate");
  EXPECT_EQ(layout.expert_linear(2, LinearRole::ExpertGate), "block_sparse_moe.experts.2.w1");
  EXPECT_EQ(layout.expert_linear(2, LinearRole::ExpertUp), "block_sparse_moe.experts.2.w3");
  EXPECT_EQ(layout.expert_linear(2, LinearRole::ExpertDown), "block_sparse_moe.experts.2.w2");
}

TEST(MoeConfig, UnsupportedRoutingAndExpertFieldsAreRefusedByName) {
  const std::vector<std::pair<std::string, nlohmann::json>> cases = {
      {"scoring_func", "sigmoid"},          {"topk_method", "noaux_tc"},
      {"n_group", 8},                       {"topk_group", 4},
      {"routed_scaling_factor", 2.5},       {"shared_expert_intermediate_size", 512},
      {"n_shared_experts", 1},              {"moe_layer_freq", 2}};
  for (const auto& [field, value] : cases) {
    nlohmann::json json = qwen3_moe();
    json[field] = value;
    const std::string message = moe_config_error(json);
    EXPECT_THAT(message, HasSubstr("/models/moe/config.json")) << field;
    EXPECT_THAT(message, HasSubstr("\"" + field + "\"")) << field;
    EXPECT_THAT(message, HasSubstr("not supported")) << field;
  }
  // The values that mean plain softmax top-k routing are accepted.
  nlohmann::json plain = qwen3_moe();
  plain["scoring_func"] = "softmax";
  plain["n_group"] = 1;
  plain["routed_scaling_factor"] = 1.0;
  plain["shared_expert_intermediate_size"] = 0;
  EXPECT_EQ(moe_config_error(plain), "");

  nlohmann::json too_many = qwen3_moe();
  too_many["num_experts_per_tok"] = 9;
  EXPECT_THAT(moe_config_error(too_many), HasSubstr("num_experts_per_tok 9 exceeds the number of experts 8"));
  nlohmann::json bad_layer = qwen3_moe();
  bad_layer["mlp_only_layers"] = {7};
  EXPECT_THAT(moe_config_error(bad_layer), HasSubstr("mlp_only_layers"));
  nlohmann::json missing = qwen3_moe();
  missing.erase("moe_intermediate_size");
  EXPECT_THAT(moe_config_error(missing), HasSubstr("missing required field \"moe_intermediate_size\""));
}

}  // namespace
}  // namespace dcomp::model
