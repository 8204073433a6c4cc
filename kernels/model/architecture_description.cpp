// reference: see architecture_description.hpp.
#include "kernels/model/architecture_description.hpp"

#include <stdexcept>

namespace dcomp::model {
namespace {

// llm-compressor's DEFAULT_SMOOTHQUANT_MAPPINGS: q/k/v balanced against input_layernorm,
// gate/up against post_attention_layernorm.
std::vector<SmoothingMapping> smoothquant_attention_and_mlp() {
  return {{"re:.*input_layernorm", {"re:.*q_proj", "re:.*k_proj", "re:.*v_proj"}},
          {"re:.*post_attention_layernorm", {"re:.*gate_proj", "re:.*up_proj"}}};
}

// MIXTRAL_ / QWEN_MOE_SMOOTHQUANT_MAPPINGS: the attention only (one smoothing scale shared by
// every expert and the router degrades them).
std::vector<SmoothingMapping> smoothquant_attention_only() {
  return {{"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}}};
}

// AWQ's _default_mappings (Llama, Mistral, Qwen2/3).
std::vector<SmoothingMapping> awq_llama() {
  return {{"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}},
          {"re:.*v_proj$", {"re:.*o_proj$"}},
          {"re:.*post_attention_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}},
          {"re:.*up_proj$", {"re:.*down_proj$"}}};
}

ArchitectureDescription dense(Architecture architecture, std::string class_name, std::string model_type,
                              std::string family) {
  ArchitectureDescription entry{architecture, std::move(class_name), std::move(model_type), std::move(family), ""};
  entry.smoothquant_mappings = smoothquant_attention_and_mlp();
  entry.awq_mappings = awq_llama();
  return entry;
}

ArchitectureDescription mixture_of_experts(Architecture architecture, std::string class_name, std::string model_type,
                                           std::string family, std::string sparse_block_class, std::string router_class,
                                           bool smoothquant_attention) {
  ArchitectureDescription entry{architecture, std::move(class_name), std::move(model_type), std::move(family),
                                std::move(sparse_block_class), std::move(router_class)};
  if (smoothquant_attention) {
    entry.smoothquant_mappings = smoothquant_attention_only();
  } else {
    entry.smoothquant_refusal = "no default mappings for " + entry.class_name + "; give 'mappings' explicitly";
  }
  entry.awq_supported = false;
  entry.awq_refusal = "AWQModifier is not supported for mixture-of-experts models (" + entry.class_name +
                      ") yet; use GPTQModifier or QuantizationModifier alone";
  return entry;
}

std::vector<ArchitectureDescription> make_descriptions() {
  return {dense(Architecture::Llama, "LlamaForCausalLM", "llama", "Llama"),
          dense(Architecture::Mistral, "MistralForCausalLM", "mistral", "Mistral"),
          dense(Architecture::Qwen2, "Qwen2ForCausalLM", "qwen2", "Qwen2"),
          dense(Architecture::Qwen3, "Qwen3ForCausalLM", "qwen3", "Qwen3"),
          mixture_of_experts(Architecture::Mixtral, "MixtralForCausalLM", "mixtral", "Mixtral", "MixtralSparseMoeBlock",
                             "MixtralTopKRouter", true),
          mixture_of_experts(Architecture::Qwen3Moe, "Qwen3MoeForCausalLM", "qwen3_moe", "Qwen3Moe",
                             "Qwen3MoeSparseMoeBlock", "Qwen3MoeTopKRouter", true),
          mixture_of_experts(Architecture::DeepseekV3, "DeepseekV3ForCausalLM", "deepseek_v3", "DeepseekV3",
                             "DeepseekV3MoE", "DeepseekV3TopkRouter", false),
          mixture_of_experts(Architecture::Glm4Moe, "Glm4MoeForCausalLM", "glm4_moe", "Glm4Moe", "Glm4MoeMoE",
                             "Glm4MoeTopkRouter", false)};
}

}  // namespace

const std::vector<ArchitectureDescription>& architecture_descriptions() {
  static const std::vector<ArchitectureDescription> descriptions = make_descriptions();
  return descriptions;
}

const ArchitectureDescription& describe(Architecture architecture) {
  for (const auto& entry : architecture_descriptions()) {
    if (entry.architecture == architecture) return entry;
  }
  throw std::logic_error("an architecture without a description");
}

const ArchitectureDescription* find_architecture(const std::string& name) {
  for (const auto& entry : architecture_descriptions()) {
    if (entry.class_name == name) return &entry;
  }
  for (const auto& entry : architecture_descriptions()) {
    if (entry.model_type == name) return &entry;
  }
  return nullptr;
}

}  // namespace dcomp::model
