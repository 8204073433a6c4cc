// The layer descriptions (decoder_layer_layout) against checkpoints transformers wrote itself
// (tests/model/fixtures/<name>/, one per architecture): every tensor of every decoder layer is
// described, with its shape, and nothing else; and the fused groups against vLLM's
// packed_modules_mapping (qkv_proj ← q/k/v, gate_up_proj ← gate/up, per expert too, and
// DeepSeek-V3's fused_qkv_a_proj ← q_a_proj, kv_a_proj_with_mqa only when q_lora_rank is set).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "kernels/io/layer_names.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/architecture_description.hpp"
#include "kernels/model/layer_layout.hpp"
#include "kernels/model/model_config.hpp"

namespace dcomp::model {
namespace {

std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(DCOMP_SOURCE_DIR) / "tests/model/fixtures" / name;
}

class LayerLayoutFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(LayerLayoutFixture, DescribesEveryTensorTransformersWrote) {
  const ModelConfig config = ModelConfig::from_dir(fixture(GetParam()));
  const io::CheckpointReader reader(fixture(GetParam()));
  for (int layer = 0; layer < config.num_hidden_layers; ++layer) {
    const std::string prefix = io::layer_prefix(layer);
    std::map<std::string, std::vector<int64_t>> stored;  // relative name → shape, as transformers saved it
    for (const std::string& name : reader.names()) {
      if (name.compare(0, prefix.size(), prefix) == 0) stored[name.substr(prefix.size())] = reader.info(name).shape;
    }
    std::map<std::string, std::vector<int64_t>> described;
    const LayerLayout layout = decoder_layer_layout(config, layer);
    for (const auto& parameter : layout.parameters) described[parameter.name] = parameter.shape;
    for (const auto& linear : layout.linears) {
      described[linear.name + ".weight"] = {linear.out_features, linear.in_features};
      if (linear.has_bias) described[linear.name + ".bias"] = {linear.out_features};
    }
    EXPECT_EQ(described, stored) << GetParam() << " layer " << layer;
  }
}

INSTANTIATE_TEST_SUITE_P(Transformers, LayerLayoutFixture,
                         ::testing::Values("llama3", "qwen2", "qwen3", "mistral", "smollm2", "mixtral", "qwen3_moe",
                                           "deepseek_v3", "deepseek_v3_q_proj", "kimi_k2", "glm4_moe"),
                         [](const auto& info) { return info.param; });

using Groups = std::vector<std::vector<std::string>>;

// The first layer whose MLP is a mixture of experts.
int first_sparse_layer(const ModelConfig& config) {
  for (int layer = 0; layer < config.num_hidden_layers; ++layer) {
    if (config.is_sparse_layer(layer)) return layer;
  }
  throw std::logic_error("no sparse layer");
}

Groups sorted(Groups groups) {
  for (auto& group : groups) std::sort(group.begin(), group.end());
  std::sort(groups.begin(), groups.end());
  return groups;
}

TEST(LayerLayout, FusedGroupsAreThoseVllmPacks) {
  const ModelConfig llama = ModelConfig::from_dir(fixture("llama3"));
  EXPECT_EQ(sorted(decoder_layer_layout(llama, 0).fused_groups),
            sorted({{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}, {"mlp.gate_proj", "mlp.up_proj"}}));

  const ModelConfig mixtral = ModelConfig::from_dir(fixture("mixtral"));
  const LayerLayout sparse = decoder_layer_layout(mixtral, first_sparse_layer(mixtral));
  EXPECT_EQ(sparse.fused_with("block_sparse_moe.experts.3.w1"),
            (std::vector<std::string>{"block_sparse_moe.experts.3.w1", "block_sparse_moe.experts.3.w3"}));
  EXPECT_TRUE(sparse.fused_with("block_sparse_moe.gate").empty());  // the router stays its own Linear
  EXPECT_TRUE(sparse.fused_with("block_sparse_moe.experts.3.w2").empty());

  const ModelConfig deepseek = ModelConfig::from_dir(fixture("deepseek_v3"));
  const LayerLayout latent = decoder_layer_layout(deepseek, first_sparse_layer(deepseek));
  EXPECT_EQ(latent.fused_with("self_attn.kv_a_proj_with_mqa"),
            (std::vector<std::string>{"self_attn.q_a_proj", "self_attn.kv_a_proj_with_mqa"}));
  EXPECT_EQ(latent.fused_with("mlp.shared_experts.up_proj"),
            (std::vector<std::string>{"mlp.shared_experts.gate_proj", "mlp.shared_experts.up_proj"}));
  EXPECT_TRUE(latent.fused_with("self_attn.kv_b_proj").empty());

  // Without q_lora_rank vLLM keeps q_proj and kv_a_proj_with_mqa apart.
  const ModelConfig plain = ModelConfig::from_dir(fixture("deepseek_v3_q_proj"));
  EXPECT_TRUE(decoder_layer_layout(plain, 0).fused_with("self_attn.q_proj").empty());
  EXPECT_TRUE(decoder_layer_layout(plain, 0).fused_with("self_attn.kv_a_proj_with_mqa").empty());
}

TEST(LayerLayout, RolesNameTheNormsAndTheSharedInputs) {
  const LayerLayout qwen3 = decoder_layer_layout(ModelConfig::from_dir(fixture("qwen3")), 0);
  EXPECT_EQ(qwen3.parameter_of(ParameterRole::AttentionNorm), "input_layernorm.weight");
  EXPECT_EQ(qwen3.parameter_of(ParameterRole::QueryNorm), "self_attn.q_norm.weight");
  EXPECT_EQ(qwen3.smoothable_norms(), (std::vector<std::string>{"input_layernorm", "post_attention_layernorm"}));
  EXPECT_EQ(qwen3.readers_with(LinearRole::Key),
            (std::vector<std::string>{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}));
  const LayerLayout llama = decoder_layer_layout(ModelConfig::from_dir(fixture("llama3")), 0);
  EXPECT_FALSE(llama.has(ParameterRole::QueryNorm));
  EXPECT_THROW(llama.parameter_of(ParameterRole::QueryNorm), std::out_of_range);
}

TEST(ArchitectureDescription, EveryArchitectureIsDescribedOnceByClassAndModelType) {
  for (const auto& entry : architecture_descriptions()) {
    ASSERT_NE(find_architecture(entry.class_name), nullptr);
    EXPECT_EQ(find_architecture(entry.class_name)->architecture, entry.architecture) << entry.class_name;
    EXPECT_EQ(find_architecture(entry.model_type)->architecture, entry.architecture) << entry.model_type;
    EXPECT_EQ(architecture_name(entry.architecture), entry.class_name);
    // A modifier without default mappings says why.
    EXPECT_TRUE(!entry.smoothquant_mappings.empty() || !entry.smoothquant_refusal.empty()) << entry.class_name;
    EXPECT_TRUE(!entry.awq_mappings.empty() || !entry.awq_refusal.empty()) << entry.class_name;
  }
  EXPECT_EQ(find_architecture("GPT2LMHeadModel"), nullptr);
}

}  // namespace
}  // namespace dcomp::model
