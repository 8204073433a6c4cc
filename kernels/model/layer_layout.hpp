// The shape of one decoder layer as data: its Linears (names relative to the layer, roles,
// shapes), which of them read the same input (and, for experts, which tokens reach it), and
// its norms. One description per architecture and layer kind: the weight loader, the
// calibration statistics, the model handle, the layer work and the checkpoint checks all
// read it, so a new block type is described here once.
//
// reference: transformers/models/llama/modeling_llama.py (LlamaDecoderLayer),
// .../mixtral/modeling_mixtral.py (MixtralSparseMoeBlock: block_sparse_moe.gate,
// experts.N.w1/w2/w3), .../qwen3_moe/modeling_qwen3_moe.py (Qwen3MoeSparseMoeBlock: mlp.gate,
// mlp.experts.N.gate_proj/up_proj/down_proj; mlp_only_layers, decoder_sparse_step),
// .../deepseek_v3/modeling_deepseek_v3.py (DeepseekV3Attention: q_a_proj, q_a_layernorm, q_b_proj
// or q_proj, kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj, o_proj; DeepseekV3MoE: mlp.gate with
// e_score_correction_bias, mlp.experts.N.*, mlp.shared_experts.*; first_k_dense_replace).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernels/model/model_config.hpp"

namespace dcomp::model {

/// What a Linear does in the layer's forward.
/// LatentQueryA/B: q_a_proj, q_b_proj; LatentKeyValueA/B: kv_a_proj_with_mqa, kv_b_proj
/// (multi-head latent attention, where Query is its q_proj without a low-rank query);
/// Shared*: the shared experts' MLP, which every token runs through.
enum class LinearRole {
  Query, Key, Value, Output, Gate, Up, Down, Router, ExpertGate, ExpertUp, ExpertDown,
  LatentQueryA, LatentQueryB, LatentKeyValueA, LatentKeyValueB, SharedGate, SharedUp, SharedDown
};

struct LayerLinear {
  std::string name;  // relative to the layer: "self_attn.q_proj", "mlp.experts.3.down_proj"
  LinearRole role = LinearRole::Query;
  int expert = -1;  // the expert's index for Expert* roles, -1 otherwise
  int64_t out_features = 0;
  int64_t in_features = 0;
  bool has_bias = false;
};

/// One distinct Linear input of the layer.
struct LayerInput {
  /// The module whose output it is, or the first reader when the input has no module of its own:
  /// "input_layernorm" (q/k/v), "self_attn.o_proj", "post_attention_layernorm" (gate/up, or the
  /// router), "mlp.down_proj", "mlp.experts.3.gate_proj" (the tokens routed to expert 3),
  /// "mlp.experts.3.down_proj".
  std::string key;
  std::vector<std::string> linears;  // relative names of its readers
  int64_t in_features = 0;
  int expert = -1;  // the expert whose routed tokens it holds, -1 for inputs every token reaches
};

/// What a tensor outside the Linears does in the layer's forward.
/// AttentionNorm / MlpNorm: the RMSNorms before attention and before the MLP (input_layernorm,
/// post_attention_layernorm), which smoothing modifiers may rescale; QueryNorm / KeyNorm: the
/// per-head RMSNorms of Qwen3 and GLM-4.5 (q_norm, k_norm [head_dim]); LatentQueryNorm /
/// LatentKeyValueNorm: multi-head latent attention's q_a_layernorm, kv_a_layernorm;
/// ScoreCorrectionBias: DeepSeek-V3's e_score_correction_bias, which only chooses experts.
enum class ParameterRole {
  AttentionNorm, MlpNorm, QueryNorm, KeyNorm, LatentQueryNorm, LatentKeyValueNorm, ScoreCorrectionBias
};

/// A tensor of the layer that belongs to no Linear: "input_layernorm.weight" [hidden],
/// "self_attn.q_norm.weight" [head_dim], "self_attn.q_a_layernorm.weight" [q_lora_rank],
/// "mlp.gate.e_score_correction_bias" [E]. Loaded, checked, carried through compression
/// (the two layer norms possibly smoothed) and written back.
struct LayerParameter {
  std::string name;  // relative to the layer, with the tensor suffix
  std::vector<int64_t> shape;
  ParameterRole role = ParameterRole::AttentionNorm;

  /// The module holding it: the name without its tensor suffix ("input_layernorm").
  std::string module() const { return name.substr(0, name.rfind('.')); }
};

/// How the layer's attention block is computed (attention.hpp, latent_attention.hpp).
enum class AttentionKind { GroupedQuery, Latent };

struct LayerLayout {
  /// The model's architecture class ("DeepseekV3ForCausalLM"), whose description names its module classes.
  std::string architecture;
  AttentionKind attention = AttentionKind::GroupedQuery;
  /// The attention block's module, relative to the layer: its Linears and norms lie under it, and
  /// a quantized KV cache's k_scale / v_scale are its tensors.
  std::string attention_module = "self_attn";
  std::vector<LayerLinear> linears;  // forward order
  std::vector<LayerInput> inputs;    // forward order
  /// Every tensor outside the Linears (see LayerParameter), forward order: the attention norm
  /// first, the MLP norm before the MLP's own tensors.
  std::vector<LayerParameter> parameters;
  /// The Linears vLLM runs as one fused Linear (relative names): q/k/v (qkv_proj), gate/up
  /// (gate_up_proj, per expert and for the shared experts too), q_a_proj with kv_a_proj_with_mqa
  /// (fused_qkv_a_proj, only when q_lora_rank is set). Their NVFP4 global scales are shared.
  std::vector<std::vector<std::string>> fused_groups;
  bool sparse = false;               // a mixture-of-experts MLP
  int64_t num_experts = 0;
  /// "block_sparse_moe." (Mixtral) or "mlp." (Qwen3-MoE); the router is <prefix>gate.
  std::string moe_prefix;

  /// Relative names of every Linear, forward order.
  std::vector<std::string> linear_names() const;
  /// The Linear named so, or nullptr.
  const LayerLinear* find(const std::string& relative_name) const;
  /// The input a Linear reads; throws std::out_of_range naming it when unknown.
  const LayerInput& input_of(const std::string& relative_name) const;
  /// Relative name of expert `expert`'s Linear of `role` (ExpertGate, ExpertUp or ExpertDown).
  std::string expert_linear(int expert, LinearRole role) const;
  /// The router's relative name ("mlp.gate", "block_sparse_moe.gate"); empty for dense layers.
  std::string router() const;
  /// Relative name of the Linear of `role` outside the experts ("self_attn.q_b_proj" for
  /// LatentQueryB); throws std::out_of_range when the layer has none.
  std::string linear_of(LinearRole role) const;
  /// Whether the layer has a Linear of `role`.
  bool has(LinearRole role) const;
  /// The relative names of the Linears reading the same input as the Linear of `role` (outside
  /// the experts), the Linear itself included, forward order: what a calibration hook is told.
  const std::vector<std::string>& readers_with(LinearRole role) const;
  /// Relative tensor name of the parameter of `role` ("input_layernorm.weight"); throws
  /// std::out_of_range when the layer has none.
  const std::string& parameter_of(ParameterRole role) const;
  /// Whether the layer has a parameter of `role`.
  bool has(ParameterRole role) const;
  /// The fused group holding the Linear `relative_name` (itself included); empty when it is not fused.
  std::vector<std::string> fused_with(const std::string& relative_name) const;
  /// The layer norms smoothing modifiers may rescale (AttentionNorm, MlpNorm), as module names
  /// relative to the layer: "input_layernorm", "post_attention_layernorm".
  std::vector<std::string> smoothable_norms() const;

 private:
  friend LayerLayout decoder_layer_layout(const ModelConfig& config, int64_t layer_index);
  std::map<std::string, size_t> linear_index_;
  std::map<std::string, size_t> input_index_;  // by reader
};

/// The layout of decoder layer `layer_index` of a model of `config`.
LayerLayout decoder_layer_layout(const ModelConfig& config, int64_t layer_index);

/// Whether a full module name ("model.layers.0.mlp.gate") is a mixture-of-experts router, which
/// compresses badly and which vLLM runs unquantized: class-name targets ("Linear") skip it.
bool is_router_module(const std::string& module_name);

}  // namespace dcomp::model
