// The model as modifiers see it (LlamaModelHandle, from config.json alone) against the
// checkpoints transformers wrote in tests/model/fixtures/<arch>/: its Linears (routers included)
// are exactly the two-dimensional weights stored there besides the embedding, with [out, in]
// as stored, plus lm_head where it is tied to the embedding; its norms are stored
// one-dimensional weights; the order is the model's; and the fused groups, counted by hand per
// fixture, name Linears that read the same input.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kernels/io/safetensors.hpp"
#include "kernels/model/model_config.hpp"
#include "pipeline/llama_model_handle.hpp"

namespace dcomp::pipeline {
namespace {

std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(DCOMP_SOURCE_DIR) / "tests/model/fixtures" / name;
}

/// A Linear, or a mixture-of-experts router (a class of its own holding a Linear's weight).
bool is_linear(const lifecycle::ModuleInfo& module) {
  for (const std::string& class_name : module.class_names) {
    if (class_name == "Linear" || class_name.find("Router") != std::string::npos) return true;
  }
  return false;
}

/// The module of a stored "<module>.weight" tensor of `rank` dimensions → its shape.
std::map<std::string, std::vector<int64_t>> stored_weights(const io::CheckpointReader& reader, size_t rank) {
  const std::string suffix = ".weight";
  std::map<std::string, std::vector<int64_t>> modules;
  for (const std::string& name : reader.names()) {
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::vector<int64_t> shape = reader.info(name).shape;
    if (shape.size() == rank) modules[name.substr(0, name.size() - suffix.size())] = shape;
  }
  return modules;
}

/// -1 for modules outside the decoder layers, else the layer index of "model.layers.<i>.…".
int layer_of(const std::string& name) {
  const std::string prefix = "model.layers.";
  if (name.compare(0, prefix.size(), prefix) != 0) return -1;
  return std::stoi(name.substr(prefix.size()));
}

class LlamaModelHandleFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(LlamaModelHandleFixture, LinearsAreTheTwoDimensionalWeightsTransformersStored) {
  const io::CheckpointReader reader(fixture(GetParam()));
  const LlamaModelHandle handle(model::ModelConfig::from_dir(fixture(GetParam())));
  std::map<std::string, std::vector<int64_t>> expected = stored_weights(reader, 2);  // [out, in]
  const std::vector<int64_t> embedding = expected.at("model.embed_tokens");        // [vocab, hidden]
  expected.erase("model.embed_tokens");
  expected.emplace("lm_head", embedding);  // a tied checkpoint stores no lm_head, but the model has one
  std::map<std::string, std::vector<int64_t>> listed;
  for (const lifecycle::ModuleInfo& module : handle.modules()) {
    if (!is_linear(module)) continue;
    EXPECT_TRUE(listed.emplace(module.name, std::vector<int64_t>{module.out_features, module.in_features}).second)
        << module.name << " listed twice";
  }
  EXPECT_EQ(listed, expected);
}

TEST_P(LlamaModelHandleFixture, NormsAndTheEmbeddingAreStoredWithTheListedWidths) {
  const io::CheckpointReader reader(fixture(GetParam()));
  const model::ModelConfig config = model::ModelConfig::from_dir(fixture(GetParam()));
  const LlamaModelHandle handle(config);
  const std::map<std::string, std::vector<int64_t>> vectors = stored_weights(reader, 1);
  int norms = 0;
  for (const lifecycle::ModuleInfo& module : handle.modules()) {
    if (module.class_names == std::vector<std::string>{"RMSNorm"}) {
      ++norms;
      ASSERT_TRUE(vectors.count(module.name)) << module.name;
      EXPECT_EQ(vectors.at(module.name), std::vector<int64_t>{module.in_features}) << module.name;
    } else if (module.class_names == std::vector<std::string>{"Embedding"}) {
      EXPECT_EQ(module.name, "model.embed_tokens");
      EXPECT_EQ(reader.info("model.embed_tokens.weight").shape,
                (std::vector<int64_t>{module.in_features, module.out_features}));  // [vocab, hidden]
    }
  }
  EXPECT_EQ(norms, 2 * config.num_hidden_layers + 1);  // two per layer, then model.norm
  EXPECT_EQ(handle.num_layers(), config.num_hidden_layers);
}

TEST_P(LlamaModelHandleFixture, ModulesComeInModelOrder) {
  const LlamaModelHandle handle(model::ModelConfig::from_dir(fixture(GetParam())));
  const std::vector<lifecycle::ModuleInfo> modules = handle.modules();
  ASSERT_GE(modules.size(), 3u);
  EXPECT_EQ(modules.front().name, "model.embed_tokens");
  EXPECT_EQ(modules[modules.size() - 2].name, "model.norm");
  EXPECT_EQ(modules.back().name, "lm_head");
  int layer = 0;
  std::string previous_in_layer;
  for (size_t i = 1; i + 2 < modules.size(); ++i) {
    const std::string& name = modules[i].name;
    const int index = layer_of(name);
    ASSERT_TRUE(index == layer || index == layer + 1) << name << " after layer " << layer;
    if (index != layer) previous_in_layer.clear();
    layer = index;
    const std::string relative = name.substr(name.find('.', std::string("model.layers.").size()) + 1);
    if (previous_in_layer.empty()) EXPECT_EQ(relative, "input_layernorm") << "layer " << layer << " starts so";
    if (relative == "post_attention_layernorm") {
      EXPECT_EQ(previous_in_layer.rfind("self_attn.", 0), 0u) << "the attention precedes the MLP norm";
    }
    if (previous_in_layer.rfind("mlp.", 0) == 0 || previous_in_layer.rfind("block_sparse_moe.", 0) == 0) {
      EXPECT_EQ(relative.find("self_attn."), std::string::npos) << name << " after the MLP";
    }
    previous_in_layer = relative;
  }
  EXPECT_EQ(layer, handle.num_layers() - 1);
}

INSTANTIATE_TEST_SUITE_P(LlamaModelHandle, LlamaModelHandleFixture,
                         ::testing::Values("llama3", "qwen2", "qwen3", "mistral", "smollm2", "mixtral", "qwen3_moe",
                                           "deepseek_v3", "deepseek_v3_q_proj", "kimi_k2", "glm4_moe"),
                         [](const auto& info) { return info.param; });

TEST(LlamaModelHandle, FusedGroupsNameLinearsReadingTheSameInput) {
  // Per fixture, counted by hand: dense layers fuse q/k/v and gate/up; sparse layers q/k/v and
  // each expert's gate/up (and the shared experts'); DeepSeek-V3 with q_lora_rank fuses
  // q_a_proj with kv_a_proj_with_mqa instead of q/k/v.
  const std::vector<std::pair<std::string, size_t>> expected_groups{
      {"llama3", 2 * 2},               // 2 dense layers
      {"mixtral", 2 * (1 + 8)},        // 2 sparse layers of 8 experts
      {"qwen3_moe", 2 * (1 + 8) + 2},  // layers 0 and 2 sparse, layer 1 dense (mlp_only_layers)
      {"deepseek_v3", 2 + (1 + 8 + 1)},  // layer 0 dense, layer 1 sparse with shared experts
      {"glm4_moe", 2 + (1 + 8 + 1)}};
  for (const auto& [name, count] : expected_groups) {
    const io::CheckpointReader reader(fixture(name));
    const std::map<std::string, std::vector<int64_t>> linears = stored_weights(reader, 2);
    const LlamaModelHandle handle(model::ModelConfig::from_dir(fixture(name)));
    const auto groups = handle.fused_groups();
    EXPECT_EQ(groups.size(), count) << name;
    std::set<std::string> grouped;
    for (const auto& group : groups) {
      ASSERT_GE(group.size(), 2u) << name;
      for (const std::string& member : group) {
        ASSERT_TRUE(linears.count(member)) << name << ": " << member << " is not a stored Linear";
        EXPECT_EQ(linears.at(member)[1], linears.at(group.front())[1]) << name << ": " << member;  // same in
        EXPECT_EQ(layer_of(member), layer_of(group.front())) << name << ": " << member;
        EXPECT_TRUE(grouped.insert(member).second) << name << ": " << member << " in two groups";
      }
    }
  }
}

TEST(LlamaModelHandle, ADenseLayerFusesQueryKeyValueAndGateUp) {
  const LlamaModelHandle handle(model::ModelConfig::from_dir(fixture("llama3")));
  const std::vector<std::vector<std::string>> expected{
      {"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj"},
      {"model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj"},
      {"model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.k_proj", "model.layers.1.self_attn.v_proj"},
      {"model.layers.1.mlp.gate_proj", "model.layers.1.mlp.up_proj"}};
  EXPECT_EQ(handle.fused_groups(), expected);
  EXPECT_EQ(handle.architecture(), "LlamaForCausalLM");
}

// Routers carry the class transformers 5.19 gives them (modeling_mixtral.py MixtralTopKRouter,
// modeling_qwen3_moe.py Qwen3MoeTopKRouter, modeling_deepseek_v3.py DeepseekV3TopkRouter,
// modeling_glm4_moe.py Glm4MoeTopkRouter), so a recipe naming that class selects them.
TEST(LlamaModelHandle, RoutersCarryTheirTransformersClass) {
  const std::map<std::string, std::string> router_class = {{"mixtral", "MixtralTopKRouter"},
                                                           {"qwen3_moe", "Qwen3MoeTopKRouter"},
                                                           {"deepseek_v3", "DeepseekV3TopkRouter"},
                                                           {"kimi_k2", "DeepseekV3TopkRouter"},
                                                           {"glm4_moe", "Glm4MoeTopkRouter"}};
  for (const auto& [name, expected] : router_class) {
    const LlamaModelHandle handle(model::ModelConfig::from_dir(fixture(name)));
    int routers = 0;
    for (const auto& module : handle.modules()) {
      const bool router = module.name.size() > 5 && module.name.compare(module.name.size() - 5, 5, ".gate") == 0;
      if (!router) continue;
      ++routers;
      EXPECT_EQ(module.class_names, std::vector<std::string>{expected}) << name << " " << module.name;
    }
    EXPECT_GT(routers, 0) << name;
  }
}

}  // namespace
}  // namespace dcomp::pipeline
