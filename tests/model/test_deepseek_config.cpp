// DeepseekV3ForCausalLM config.json (DeepSeek-V3, R1, Kimi-K2) and Glm4MoeForCausalLM (GLM-4.5,
// the same routing with grouped-query attention and partial rotary embeddings): MLA, rotary and routing fields with
// transformers' defaults, the layer layouts they imply (dense first layers, shared experts reading
// the router's input, the latent norms and the score correction bias as layer parameters), the
// refusal of fields whose computation dcomp lacks, and the group-limited sigmoid routing
// against hand-worked cases.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "kernels/model/latent_attention.hpp"
#include "kernels/model/layer_layout.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/sparse_moe.hpp"
#include "tests/model/config_json_fixtures.hpp"

namespace dcomp::model {
namespace {

using ::testing::HasSubstr;

nlohmann::json deepseek_v3_json() {
  return {{"architectures", {"DeepseekV3ForCausalLM"}},
          {"hidden_size", 64},
          {"intermediate_size", 96},
          {"moe_intermediate_size", 16},
          {"num_hidden_layers", 3},
          {"num_attention_heads", 4},
          {"num_key_value_heads", 4},
          {"vocab_size", 128},
          {"max_position_embeddings", 256},
          {"rms_norm_eps", 1e-6},
          {"q_lora_rank", 32},
          {"kv_lora_rank", 16},
          {"qk_nope_head_dim", 16},
          {"qk_rope_head_dim", 8},
          {"v_head_dim", 16},
          {"n_routed_experts", 8},
          {"n_group", 4},
          {"topk_group", 2},
          {"num_experts_per_tok", 3},
          {"first_k_dense_replace", 1},
          {"scoring_func", "sigmoid"},
          {"topk_method", "noaux_tc"}};
}

std::string deepseek_config_error(const nlohmann::json& json) { return testing::config_error(json, "/models/dsv3/config.json"); }

TEST(DeepseekV3Config, FieldsDefaultsAndLayouts) {
  const ModelConfig config = ModelConfig::from_json(deepseek_v3_json());
  ASSERT_TRUE(config.latent_attention && config.moe);
  EXPECT_EQ(config.head_dim, 8);  // the rotary width, as DeepseekV3Config sets it
  EXPECT_EQ(config.latent_attention->qk_head_dim(), 24);
  EXPECT_TRUE(config.latent_attention->rope_interleave);
  EXPECT_EQ(config.moe->scoring, RouterScoring::Sigmoid);
  EXPECT_DOUBLE_EQ(config.moe->routed_scaling_factor, 2.5);  // transformers' defaults
  EXPECT_TRUE(config.moe->norm_topk_prob);
  EXPECT_EQ(config.moe->shared_intermediate_size, 16);  // n_shared_experts 1
  EXPECT_FALSE(config.is_sparse_layer(0));
  EXPECT_TRUE(config.is_sparse_layer(1));
  EXPECT_TRUE(config.is_sparse_layer(2));

  const LayerLayout dense = decoder_layer_layout(config, 0);
  EXPECT_FALSE(dense.sparse);
  EXPECT_EQ(dense.linear_names(), (std::vector<std::string>{"self_attn.q_a_proj", "self_attn.kv_a_proj_with_mqa",
                                                            "self_attn.q_b_proj", "self_attn.kv_b_proj",
                                                            "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj",
                                                            "mlp.down_proj"}));
  EXPECT_EQ(dense.input_of("self_attn.kv_a_proj_with_mqa").key, "input_layernorm");
  EXPECT_EQ(dense.input_of("self_attn.q_b_proj").key, "self_attn.q_a_layernorm");
  EXPECT_EQ(dense.input_of("self_attn.kv_b_proj").key, "self_attn.kv_a_layernorm");
  EXPECT_EQ(dense.find("self_attn.kv_a_proj_with_mqa")->out_features, 16 + 8);
  EXPECT_EQ(dense.find("self_attn.q_b_proj")->out_features, 4 * 24);
  EXPECT_EQ(dense.find("self_attn.kv_b_proj")->out_features, 4 * (16 + 16));
  EXPECT_EQ(dense.find("self_attn.o_proj")->in_features, 4 * 16);
  ASSERT_EQ(dense.parameters.size(), 4u);  // the two layer norms and the two latent norms
  EXPECT_EQ(dense.parameters[0].name, "input_layernorm.weight");
  EXPECT_EQ(dense.parameters[1].name, "self_attn.q_a_layernorm.weight");
  EXPECT_EQ(dense.parameters[2].shape, (std::vector<int64_t>{16}));
  EXPECT_EQ(dense.parameters[2].role, ParameterRole::LatentKeyValueNorm);
  EXPECT_EQ(dense.parameters[3].name, "post_attention_layernorm.weight");

  const LayerLayout sparse = decoder_layer_layout(config, 1);
  ASSERT_TRUE(sparse.sparse);
  EXPECT_EQ(sparse.linears.size(), 5u + 1u + 8u * 3u + 3u);
  EXPECT_EQ(sparse.input_of("mlp.gate").linears,
            (std::vector<std::string>{"mlp.gate", "mlp.shared_experts.gate_proj", "mlp.shared_experts.up_proj"}));
  EXPECT_EQ(sparse.input_of("mlp.shared_experts.down_proj").expert, -1);
  EXPECT_EQ(sparse.parameters.back().name, "mlp.gate.e_score_correction_bias");
  EXPECT_EQ(sparse.parameters.back().shape, (std::vector<int64_t>{8}));

  nlohmann::json no_q_lora = deepseek_v3_json();
  no_q_lora["q_lora_rank"] = nullptr;
  no_q_lora["n_shared_experts"] = 2;
  const ModelConfig plain = ModelConfig::from_json(no_q_lora);
  EXPECT_FALSE(plain.latent_attention->q_lora_rank);
  const LayerLayout plain_layout = decoder_layer_layout(plain, 1);
  EXPECT_EQ(plain_layout.find("self_attn.q_proj")->out_features, 4 * 24);
  EXPECT_EQ(plain_layout.find("self_attn.q_a_proj"), nullptr);
  EXPECT_EQ(plain_layout.find("mlp.shared_experts.down_proj")->in_features, 32);
  EXPECT_TRUE(is_router_module("model.layers.1.mlp.gate"));
  EXPECT_FALSE(is_router_module("model.layers.1.mlp.shared_experts.gate_proj"));
}

TEST(DeepseekV3Config, YarnSoftmaxScaleUsesMscaleAllDim) {
  nlohmann::json json = deepseek_v3_json();
  json["rope_parameters"] = {{"rope_type", "yarn"}, {"rope_theta", 10000.0}, {"factor", 40.0},
                             {"original_max_position_embeddings", 4096}, {"mscale", 1.0}, {"mscale_all_dim", 1.0}};
  const ModelConfig config = ModelConfig::from_json(json);
  // DeepSeek-V3's own numbers: (0.1·ln 40 + 1)² / √24.
  const double mscale = 0.1 * std::log(40.0) + 1.0;
  EXPECT_NEAR(latent_attention_scale(config), mscale * mscale / std::sqrt(24.0), 1e-12);
  json.erase("rope_parameters");
  EXPECT_NEAR(latent_attention_scale(ModelConfig::from_json(json)), 1.0 / std::sqrt(24.0), 1e-12);
}

// The published config.json of DeepSeek-V3 (deepseek-ai/DeepSeek-V3, with its FP8 quantization_config
// and the keys its own modeling code reads) and of Kimi-K2 (moonshotai/Kimi-K2-Instruct).
TEST(DeepseekV3Config, ThePublishedConfigsOfDeepseekV3AndKimiK2AreRead) {
  const nlohmann::json deepseek = {
      {"architectures", {"DeepseekV3ForCausalLM"}}, {"attention_bias", false}, {"aux_loss_alpha", 0.001},
      {"bos_token_id", 0}, {"eos_token_id", 1}, {"ep_size", 1}, {"first_k_dense_replace", 3},
      {"hidden_act", "silu"}, {"hidden_size", 7168}, {"intermediate_size", 18432}, {"kv_lora_rank", 512},
      {"max_position_embeddings", 163840}, {"model_type", "deepseek_v3"}, {"moe_intermediate_size", 2048},
      {"moe_layer_freq", 1}, {"n_group", 8}, {"n_routed_experts", 256}, {"n_shared_experts", 1},
      {"norm_topk_prob", true}, {"num_attention_heads", 128}, {"num_experts_per_tok", 8},
      {"num_hidden_layers", 61}, {"num_key_value_heads", 128}, {"num_nextn_predict_layers", 1},
      {"q_lora_rank", 1536}, {"qk_nope_head_dim", 128}, {"qk_rope_head_dim", 64},
      {"quantization_config",
       {{"activation_scheme", "dynamic"}, {"fmt", "e4m3"}, {"quant_method", "fp8"}, {"weight_block_size", {128, 128}}}},
      {"rms_norm_eps", 1e-6},
      {"rope_scaling",
       {{"beta_fast", 32}, {"beta_slow", 1}, {"factor", 40}, {"mscale", 1.0}, {"mscale_all_dim", 1.0},
        {"original_max_position_embeddings", 4096}, {"type", "yarn"}}},
      {"rope_theta", 10000}, {"routed_scaling_factor", 2.5}, {"scoring_func", "sigmoid"}, {"seq_aux", true},
      {"tie_word_embeddings", false}, {"topk_group", 4}, {"topk_method", "noaux_tc"}, {"torch_dtype", "bfloat16"},
      {"v_head_dim", 128}, {"vocab_size", 129280}};
  const ModelConfig v3 = ModelConfig::from_json(deepseek);
  EXPECT_EQ(v3.head_dim, 64);
  EXPECT_EQ(v3.next_token_prediction_layers, 1);
  EXPECT_EQ(v3.rope_scaling.type, RopeScalingType::Yarn);
  EXPECT_DOUBLE_EQ(v3.rope_scaling.factor, 40.0);
  EXPECT_EQ(v3.rope_scaling.original_max_position_embeddings, 4096);
  const double mscale = 0.1 * std::log(40.0) + 1.0;
  EXPECT_NEAR(latent_attention_scale(v3), mscale * mscale / std::sqrt(192.0), 1e-12);
  EXPECT_FALSE(v3.is_sparse_layer(2));
  EXPECT_TRUE(v3.is_sparse_layer(3));
  EXPECT_EQ(decoder_layer_layout(v3, 3).linears.size(), 5u + 1u + 256u * 3u + 3u);
  EXPECT_EQ(decoder_layer_layout(v3, 3).find("self_attn.kv_b_proj")->out_features, 128 * (128 + 128));

  nlohmann::json kimi = deepseek;
  kimi.erase("quantization_config");
  kimi.update({{"model_type", "kimi_k2"}, {"num_attention_heads", 64}, {"num_key_value_heads", 64},
               {"n_routed_experts", 384}, {"routed_scaling_factor", 2.827}, {"n_group", 1}, {"topk_group", 1},
               {"first_k_dense_replace", 1}, {"num_nextn_predict_layers", 0}, {"rope_theta", 50000.0},
               {"max_position_embeddings", 131072}, {"vocab_size", 163840}, {"bos_token_id", 163584},
               {"eos_token_id", 163585}});
  kimi["rope_scaling"] = {{"beta_fast", 1.0}, {"beta_slow", 1.0}, {"factor", 32.0}, {"mscale", 1.0},
                          {"mscale_all_dim", 1.0}, {"original_max_position_embeddings", 4096}, {"type", "yarn"}};
  const ModelConfig k2 = ModelConfig::from_json(kimi);
  EXPECT_EQ(k2.moe->num_experts, 384);
  EXPECT_EQ(k2.moe->n_group, 1);
  EXPECT_DOUBLE_EQ(k2.moe->routed_scaling_factor, 2.827);
  EXPECT_DOUBLE_EQ(k2.rope_scaling.beta_fast, 1.0);
  EXPECT_TRUE(k2.is_sparse_layer(1));
}

TEST(DeepseekV3Config, UnsupportedFieldsAreRefusedByName) {
  const std::vector<std::pair<std::string, nlohmann::json>> cases = {
      {"scoring_func", "softmax"}, {"topk_method", "greedy"}, {"index_topk", 2048},
      {"index_n_heads", 64},      {"index_head_dim", 128},   {"moe_layer_freq", 2}};
  for (const auto& [field, value] : cases) {
    nlohmann::json json = deepseek_v3_json();
    json[field] = value;
    const std::string message = deepseek_config_error(json);
    EXPECT_THAT(message, HasSubstr("/models/dsv3/config.json")) << field;
    EXPECT_THAT(message, HasSubstr("\"" + field + "\"")) << field;
    EXPECT_THAT(message, HasSubstr("not supported")) << field;
  }
  nlohmann::json uneven = deepseek_v3_json();
  uneven["n_group"] = 3;
  EXPECT_THAT(deepseek_config_error(uneven), HasSubstr("must split into n_group 3 groups"));
  nlohmann::json groups = deepseek_v3_json();
  groups["topk_group"] = 5;
  EXPECT_THAT(deepseek_config_error(groups), HasSubstr("topk_group 5 exceeds n_group 4"));
  nlohmann::json odd_rope = deepseek_v3_json();
  odd_rope["qk_rope_head_dim"] = 7;
  EXPECT_THAT(deepseek_config_error(odd_rope), HasSubstr("qk_rope_head_dim 7 must be even"));
}

TEST(Glm4MoeConfig, PartialRotaryQkNormAndTransformersDefaults) {
  nlohmann::json json = {{"architectures", {"Glm4MoeForCausalLM"}},
                         {"hidden_size", 64},
                         {"intermediate_size", 96},
                         {"num_hidden_layers", 3},
                         {"num_attention_heads", 4},
                         {"num_key_value_heads", 2},
                         {"head_dim", 16},
                         {"vocab_size", 128},
                         {"max_position_embeddings", 256},
                         {"rms_norm_eps", 1e-5},
                         {"attention_bias", true},
                         {"use_qk_norm", true},
                         {"n_routed_experts", 8}};
  const ModelConfig config = ModelConfig::from_json(json);
  EXPECT_FALSE(config.latent_attention);
  EXPECT_EQ(config.rotary_dim(), 8);  // partial_rotary_factor 0.5 by default
  EXPECT_TRUE(config.qkv_bias);
  EXPECT_FALSE(config.o_proj_bias);
  EXPECT_TRUE(config.qk_norm);
  ASSERT_TRUE(config.moe);
  EXPECT_EQ(config.moe->n_group, 1);  // configuration_glm4_moe.py's defaults
  EXPECT_DOUBLE_EQ(config.moe->routed_scaling_factor, 1.0);
  EXPECT_EQ(config.moe->expert_intermediate_size, 1408);
  EXPECT_FALSE(config.is_sparse_layer(0));  // first_k_dense_replace 1
  EXPECT_TRUE(config.is_sparse_layer(1));
  const LayerLayout sparse = decoder_layer_layout(config, 1);
  EXPECT_EQ(sparse.find("self_attn.k_proj")->out_features, 32);
  EXPECT_TRUE(sparse.find("self_attn.k_proj")->has_bias);
  EXPECT_FALSE(sparse.find("self_attn.o_proj")->has_bias);
  EXPECT_EQ(sparse.input_of("mlp.shared_experts.up_proj").key, "post_attention_layernorm");
  // The two layer norms, q_norm and k_norm (use_qk_norm) and e_score_correction_bias.
  EXPECT_EQ(sparse.parameters.size(), 5u);
  EXPECT_EQ(sparse.parameter_of(ParameterRole::KeyNorm), "self_attn.k_norm.weight");
  EXPECT_EQ(sparse.parameter_of(ParameterRole::ScoreCorrectionBias), "mlp.gate.e_score_correction_bias");

  json["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 10000.0}, {"partial_rotary_factor", 0.25}};
  EXPECT_EQ(ModelConfig::from_json(json).rotary_dim(), 4);
  json["rope_parameters"]["partial_rotary_factor"] = 0.1;  // 1.6 dimensions
  EXPECT_THAT(testing::config_error(json, "/models/glm/config.json"),
              HasSubstr("must rotate an even, positive number of dimensions"));
}

// 4 experts in 2 groups {0, 1}, {2, 3}; sigmoid scores s = σ(logit).
MoeConfig deepseek_grouped_moe() {
  MoeConfig moe;
  moe.scoring = RouterScoring::Sigmoid;
  moe.num_experts = 4;
  moe.n_group = 2;
  moe.topk_group = 1;
  moe.top_k = 1;
  moe.norm_topk_prob = false;
  moe.routed_scaling_factor = 2.0;
  return moe;
}

TEST(DeepseekV3Routing, GroupsAreChosenByTheirTwoBestScoresAndTheBiasOnlyChooses) {
  const MoeConfig moe = deepseek_grouped_moe();
  // Expert 0 has the best score, but group {2, 3} has the larger sum of its two best.
  const at::Tensor logits = at::tensor({3.0f, -3.0f, 2.0f, 1.5f}).view({1, 4});
  const ExpertRouting routing = route_tokens(moe, logits);
  EXPECT_EQ(routing.experts.item<int64_t>(), 2);  // σ(2) + σ(1.5) = 1.70 > σ(3) + σ(-3) = 1
  EXPECT_NEAR(routing.weights.item<float>(), 2.0 / (1.0 + std::exp(-2.0)), 1e-6);  // σ(2)·scaling
  // A bias lifting expert 1 moves the choice to group {0, 1} (0.95 + 0.95 > 1.70) and there to
  // expert 0 (0.953 > 0.047 + 0.9), whose weight is its unbiased score.
  const at::Tensor bias = at::tensor({0.0f, 0.9f, 0.0f, 0.0f});
  const ExpertRouting biased = route_tokens(moe, logits, bias);
  EXPECT_EQ(biased.experts.item<int64_t>(), 0);
  EXPECT_NEAR(biased.weights.item<float>(), 2.0 / (1.0 + std::exp(-3.0)), 1e-6);
}

TEST(DeepseekV3Routing, RenormalisesBeforeScaling) {
  MoeConfig moe = deepseek_grouped_moe();
  moe.n_group = 1;
  moe.topk_group = 1;
  moe.top_k = 2;
  moe.norm_topk_prob = true;
  moe.routed_scaling_factor = 2.5;
  const at::Tensor logits = at::tensor({0.0f, 1.0f, -1.0f, 2.0f}).view({1, 4});
  const ExpertRouting routing = route_tokens(moe, logits);
  const double s3 = 1.0 / (1.0 + std::exp(-2.0)), s1 = 1.0 / (1.0 + std::exp(-1.0));
  EXPECT_EQ(routing.experts[0][0].item<int64_t>(), 3);
  EXPECT_EQ(routing.experts[0][1].item<int64_t>(), 1);
  EXPECT_NEAR(routing.weights[0][0].item<float>(), 2.5 * s3 / (s3 + s1), 1e-6);
  EXPECT_NEAR(routing.weights[0][1].item<float>(), 2.5 * s1 / (s3 + s1), 1e-6);
}

}  // namespace
}  // namespace dcomp::model
