// One entry per architecture this engine runs: its names (config.json's class and model_type,
// the prefix transformers gives its module classes) and what modifiers default to on it
// (SmoothQuant's and AWQ's smoothing mappings, or why there are none). The shape of its
// decoder layers is described by decoder_layer_layout (layer_layout.hpp) from the config.
//
// reference: llm-compressor src/llmcompressor/modifiers/smoothquant/utils.py
// (DEFAULT_SMOOTHQUANT_MAPPINGS, MIXTRAL_SMOOTHQUANT_MAPPINGS, MAPPINGS_REGISTRY) and
// modifiers/awq/mappings.py (_default_mappings, AWQ_MAPPING_REGISTRY); transformers'
// models/<family>/modeling_<family>.py (module class names).
#pragma once

#include <string>
#include <vector>

#include "kernels/model/model_config.hpp"

namespace dcomp::model {

/// One smoothing mapping: the module whose output is divided by per-channel scales (a norm, or a
/// Linear such as v_proj) and the Linears reading that output, whose columns are multiplied by
/// them. Names are llm-compressor's target patterns ("re:.*input_layernorm$").
struct SmoothingMapping {
  std::string smooth;
  std::vector<std::string> balance;
};

struct ArchitectureDescription {
  Architecture architecture;
  std::string class_name;     // config.json "architectures"[0]: "LlamaForCausalLM"
  std::string model_type;     // config.json "model_type": "llama"
  std::string module_family;  // transformers' module class prefix: "Llama" (LlamaAttention, LlamaMLP, ...)
  /// transformers' class of a sparse MLP block ("MixtralSparseMoeBlock", "DeepseekV3MoE"); empty
  /// for dense-only architectures.
  std::string sparse_block_class;
  /// transformers' class of a sparse block's router ("MixtralTopKRouter", "DeepseekV3TopkRouter");
  /// empty for dense-only architectures.
  std::string router_class;
  /// SmoothQuantModifier's default mappings; empty: none, and `smoothquant_refusal` says why.
  std::vector<SmoothingMapping> smoothquant_mappings;
  std::string smoothquant_refusal;
  /// AWQModifier's default mappings; empty: none, and `awq_refusal` says why. `awq_supported`
  /// false: AWQ is refused even with explicit mappings (its grid search replays attention and
  /// dense-MLP parents, which a mixture-of-experts or latent-attention layer does not have).
  std::vector<SmoothingMapping> awq_mappings;
  std::string awq_refusal;
  bool awq_supported = true;
};

/// Every architecture this engine runs, in the order --help lists them.
const std::vector<ArchitectureDescription>& architecture_descriptions();
/// The entry of `architecture`.
const ArchitectureDescription& describe(Architecture architecture);
/// The entry whose class name ("Qwen3ForCausalLM") or model_type ("qwen3") is `name`; nullptr
/// when the engine does not run it.
const ArchitectureDescription* find_architecture(const std::string& name);

}  // namespace dcomp::model
