// The parameters of one decoder layer (Llama family), all fp32, addressed by
// the Hugging Face module names relative to the layer ("self_attn.q_proj", ...).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/model/linear.hpp"

namespace dcomp::model {

/// One decoder layer's weights. Shapes with H = num_attention_heads,
/// K = num_key_value_heads, D = head_dim, I = intermediate_size.
struct DecoderLayerWeights {
  at::Tensor input_layernorm;           // [hidden] fp32
  at::Tensor post_attention_layernorm;  // [hidden] fp32
  LinearWeights q_proj;                 // [H*D, hidden]
  LinearWeights k_proj;                 // [K*D, hidden]
  LinearWeights v_proj;                 // [K*D, hidden]
  LinearWeights o_proj;                 // [hidden, H*D]
  LinearWeights gate_proj;              // [I, hidden]
  LinearWeights up_proj;                // [I, hidden]
  LinearWeights down_proj;              // [hidden, I]
  at::Tensor q_norm;                    // [D] fp32, Qwen3 only (undefined otherwise)
  at::Tensor k_norm;                    // [D] fp32, Qwen3 only (undefined otherwise)
  /// KV-cache quantization (a checkpoint's kv_cache_scheme): applied to the keys (after RoPE)
  /// and values [B, K, S, D] before attention and caching; empty when the cache stays fp32.
  std::function<at::Tensor(const at::Tensor&)> key_quantizer;
  std::function<at::Tensor(const at::Tensor&)> value_quantizer;

  /// The seven Linear names in forward order: "self_attn.q_proj", "self_attn.k_proj",
  /// "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj".
  static const std::vector<std::string>& linear_names();
  /// The Linear with that name; throws std::out_of_range naming it when unknown.
  LinearWeights& linear(const std::string& name);
  const LinearWeights& linear(const std::string& name) const;
  /// Moves every parameter to `device` (a no-op for those already there).
  void to(c10::Device device);
};

}  // namespace dcomp::model
