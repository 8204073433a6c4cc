// The modules enclosing a Linear with transformers' class names, which recipe targets such as
// "DeepseekV3MoE" or "Qwen3MoeSparseMoeBlock" select: per architecture, as modeling_*.py names them.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "lifecycle/enclosing_modules.hpp"

namespace dcomp::lifecycle {
namespace {

// name → class of every enclosing module of `linear`.
std::map<std::string, std::string> classes_around(const std::string& linear, const std::string& architecture) {
  std::map<std::string, std::string> classes;
  for (const auto& module : enclosing_modules(linear, architecture)) {
    classes[module.name] = module.class_names.empty() ? "" : module.class_names.front();
  }
  return classes;
}

TEST(EnclosingModules, SparseBlocksCarryTheirArchitecturesClassNames) {
  // transformers/models/deepseek_v3/modeling_deepseek_v3.py: DeepseekV3MoE holds DeepseekV3Experts,
  // the router and the shared experts (a DeepseekV3MLP).
  auto shared = classes_around("model.layers.1.mlp.shared_experts.gate_proj", "DeepseekV3ForCausalLM");
  EXPECT_EQ(shared["model.layers.1.mlp.shared_experts"], "DeepseekV3MLP");
  EXPECT_EQ(shared["model.layers.1.mlp"], "DeepseekV3MoE");
  EXPECT_EQ(shared["model.layers.1"], "DeepseekV3DecoderLayer");
  auto expert = classes_around("model.layers.1.mlp.experts.3.down_proj", "Glm4MoeForCausalLM");
  EXPECT_EQ(expert["model.layers.1.mlp"], "Glm4MoeMoE");
  EXPECT_EQ(expert["model.layers.1.mlp.experts"], "Glm4MoeExperts");
  // A dense first layer's MLP, and the other families' sparse blocks, as before.
  EXPECT_EQ(classes_around("model.layers.0.mlp.down_proj", "DeepseekV3ForCausalLM")["model.layers.0.mlp"],
            "DeepseekV3MLP");
  EXPECT_EQ(classes_around("model.layers.0.mlp.gate", "Qwen3MoeForCausalLM")["model.layers.0.mlp"],
            "Qwen3MoeSparseMoeBlock");
  EXPECT_EQ(classes_around("model.layers.0.self_attn.kv_b_proj", "DeepseekV3ForCausalLM")["model.layers.0.self_attn"],
            "DeepseekV3Attention");
}

}  // namespace
}  // namespace dcomp::lifecycle
