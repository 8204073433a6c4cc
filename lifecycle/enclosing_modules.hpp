// The modules that contain a Linear, as a transformers model names them, so that a
// recipe target can select Linears by the layer they sit in: "re:.*model.layers.0$" or
// "LlamaDecoderLayer" selects every Linear of that decoder layer.
// reference: llm-compressor modifiers/pruning/sparsegpt/base.py (targets select layers,
// whose prunable Linears are pruned: get_layers, get_prunable_layers); transformers
// models/llama/modeling_llama.py (LlamaModel, LlamaDecoderLayer, LlamaAttention, LlamaMLP).
#pragma once

#include <string>
#include <vector>

#include "lifecycle/layer_work.hpp"
#include "lifecycle/model_handle.hpp"

namespace dcomp::lifecycle {

/// The modules enclosing `linear_name`, innermost first, with their transformers class
/// names for an architecture such as "LlamaForCausalLM": for
/// "model.layers.3.mlp.down_proj" that is model.layers.3.mlp (LlamaMLP), model.layers.3
/// (LlamaDecoderLayer), model.layers (ModuleList) and model (LlamaModel). A name outside
/// the decoder (lm_head) has none.
std::vector<ModuleInfo> enclosing_modules(const std::string& linear_name, const std::string& architecture);

/// A Linear-like module of a decoder layer (or lm_head) as recipe targets see it: class
/// "Linear", except a mixture-of-experts router ("model.layers.0.mlp.gate",
/// "...block_sparse_moe.gate"), which transformers implements as its own class
/// (the architecture's router class: MixtralTopKRouter, Qwen3MoeTopKRouter, DeepseekV3TopkRouter,
/// Glm4MoeTopkRouter; without an architecture, Mixtral's or Qwen3-MoE's by the name): "Linear"
/// targets leave it unquantized, as vLLM runs it, while a target naming it ("re:.*mlp.gate$") selects it.
ModuleInfo linear_module_info(const std::string& name, int64_t in_features = 0, int64_t out_features = 0,
                              const std::string& architecture = "");
/// A layer's Linear as recipe targets see it (its class names as the pipeline gave them, else
/// linear_module_info's), with its weight's [out, in].
ModuleInfo linear_module_info(const LinearModule& module);

/// The class transformers gives a decoder layer of `architecture` ("LlamaDecoderLayer").
std::string decoder_layer_class(const std::string& architecture);

/// The name transformers gives the output projection of a causal LM.
inline constexpr const char* kLmHead = "lm_head";

/// Throws RecipeError when `module` is neither a Linear (or router) of a decoder layer nor
/// lm_head (model.embed_tokens, an Embedding; a norm, RMSNorm): dcomp compresses Linear
/// modules only, so a recipe that selects another module is refused at initialize, naming
/// the ignore to add.
void refuse_unless_compressible(const std::string& modifier, const ModuleInfo& module);

/// True when `targets` match the Linear itself or a module enclosing it, and `ignore`
/// does not match the Linear.
bool selects_linear_or_enclosing(const ModuleInfo& linear, const std::string& architecture,
                                 const std::vector<std::string>& targets, const std::vector<std::string>& ignore);

/// True when every target of `sequential_targets` names the decoder layers (their
/// class, e.g. "LlamaDecoderLayer", or a name or pattern matching each model.layers.N
/// and nothing else), which is the unit dcomp's pipeline always runs.
bool names_the_decoder_layers(const std::vector<std::string>& sequential_targets, const std::string& architecture,
                              int num_layers);

}  // namespace dcomp::lifecycle
