// The parameters of one decoder layer (Llama family, dense or with a mixture-of-experts
// MLP), all fp32, addressed by the Hugging Face module names relative to the layer
// ("self_attn.q_proj", "mlp.experts.3.up_proj", ...) as its LayerLayout lists them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/model/layer_layout.hpp"
#include "kernels/model/linear.hpp"

namespace dcomp::model {

/// One expert of a mixture-of-experts MLP: a SwiGLU MLP of the expert intermediate size I_e.
struct ExpertWeights {
  LinearWeights gate_proj;  // [I_e, hidden] (Mixtral: w1)
  LinearWeights up_proj;    // [I_e, hidden] (Mixtral: w3)
  LinearWeights down_proj;  // [hidden, I_e] (Mixtral: w2)
};

/// One decoder layer's weights. Shapes with H = num_attention_heads,
/// K = num_key_value_heads, D = head_dim, I = intermediate_size.
struct DecoderLayerWeights {
  LinearWeights q_proj;                 // [H*D, hidden]
  LinearWeights k_proj;                 // [K*D, hidden]
  LinearWeights v_proj;                 // [K*D, hidden]
  LinearWeights o_proj;                 // [hidden, H*D]
  LinearWeights gate_proj;              // [I, hidden] (dense layers)
  LinearWeights up_proj;                // [I, hidden] (dense layers)
  LinearWeights down_proj;              // [hidden, I] (dense layers)
  LinearWeights router;                 // [E, hidden] (sparse layers: mlp.gate / block_sparse_moe.gate)
  std::vector<ExpertWeights> experts;   // E of them (sparse layers)
  ExpertWeights shared_experts;         // [S, hidden] x2, [hidden, S] (DeepSeek-V3 sparse layers)
  // Multi-head latent attention (DeepSeek-V3), with r_q = q_lora_rank, r_kv = kv_lora_rank,
  // D_qk = qk_nope_head_dim + qk_rope_head_dim, D_v = v_head_dim; q_proj [H*D_qk, hidden] without r_q.
  LinearWeights q_a_proj;               // [r_q, hidden]
  LinearWeights q_b_proj;               // [H*D_qk, r_q]
  LinearWeights kv_a_proj;              // [r_kv + qk_rope_head_dim, hidden] (kv_a_proj_with_mqa)
  LinearWeights kv_b_proj;              // [H*(qk_nope_head_dim + D_v), r_kv]
  /// The layout's tensors outside the Linears (LayerParameter) by relative name, fp32:
  /// "input_layernorm.weight" [hidden], "post_attention_layernorm.weight" [hidden],
  /// "self_attn.q_norm.weight" [D], "self_attn.q_a_layernorm.weight" [r_q],
  /// "mlp.gate.e_score_correction_bias" [E], ...
  std::map<std::string, at::Tensor> parameters;
  /// KV-cache quantization (a checkpoint's kv_cache_scheme): applied to the keys (after RoPE)
  /// and values [B, K, S, D] before attention and caching; empty when the cache stays fp32.
  std::function<at::Tensor(const at::Tensor&)> key_quantizer;
  std::function<at::Tensor(const at::Tensor&)> value_quantizer;

  /// The layer's shape (decoder_layer_layout): every consumer reads names, roles and shapes from it.
  std::shared_ptr<const LayerLayout> layout;

  /// Whether the MLP is a mixture of experts.
  bool sparse() const { return layout->sparse; }
  /// The Linear names in forward order (the layout's).
  std::vector<std::string> linear_names() const { return layout->linear_names(); }
  /// The Linear with that name; throws std::out_of_range naming it when unknown.
  LinearWeights& linear(const std::string& name);
  const LinearWeights& linear(const std::string& name) const;
  /// The layout's parameter of that relative name; throws std::out_of_range naming it when absent.
  const at::Tensor& parameter(const std::string& name) const;
  /// The layout's parameter of `role` (the attention norm, q_norm, ...); throws std::out_of_range
  /// when the layer has none or it was not loaded.
  const at::Tensor& parameter(ParameterRole role) const { return parameter(layout->parameter_of(role)); }
  at::Tensor& parameter(ParameterRole role) { return parameters.at(layout->parameter_of(role)); }
  /// Moves every parameter to `device` (a no-op for those already there).
  void to(c10::Device device);
};

}  // namespace dcomp::model
