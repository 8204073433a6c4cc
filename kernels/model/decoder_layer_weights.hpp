// The parameters of one decoder layer (Llama family, dense or with a mixture-of-experts
// MLP), all fp32, addressed by the Hugging Face module names relative to the layer
// ("self_attn.q_proj", "mlp.experts.3.up_proj", ...) as its LayerLayout lists them.
#pragma once

#include <functional>
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
  at::Tensor input_layernorm;           // [hidden] fp32
  at::Tensor post_attention_layernorm;  // [hidden] fp32
  LinearWeights q_proj;                 // [H*D, hidden]
  LinearWeights k_proj;                 // [K*D, hidden]
  LinearWeights v_proj;                 // [K*D, hidden]
  LinearWeights o_proj;                 // [hidden, H*D]
  LinearWeights gate_proj;              // [I, hidden] (dense layers)
  LinearWeights up_proj;                // [I, hidden] (dense layers)
  LinearWeights down_proj;              // [hidden, I] (dense layers)
  LinearWeights router;                 // [E, hidden] (sparse layers: mlp.gate / block_sparse_moe.gate)
  std::vector<ExpertWeights> experts;   // E of them (sparse layers)
  at::Tensor q_norm;                    // [D] fp32, Qwen3 only (undefined otherwise)
  at::Tensor k_norm;                    // [D] fp32, Qwen3 only (undefined otherwise)
  /// KV-cache quantization (a checkpoint's kv_cache_scheme): applied to the keys (after RoPE)
  /// and values [B, K, S, D] before attention and caching; empty when the cache stays fp32.
  std::function<at::Tensor(const at::Tensor&)> key_quantizer;
  std::function<at::Tensor(const at::Tensor&)> value_quantizer;

  /// The layer's shape; null for a dense layer built by hand (then the dense layout applies).
  std::shared_ptr<const LayerLayout> layout;

  /// Whether the MLP is a mixture of experts.
  bool sparse() const { return layout && layout->sparse; }
  /// The Linear names in forward order (the layout's; for a layer without one the seven
  /// dense names "self_attn.q_proj", ..., "mlp.down_proj").
  std::vector<std::string> linear_names() const;
  /// The seven Linear names of a dense layer.
  static const std::vector<std::string>& dense_linear_names();
  /// The Linear with that name; throws std::out_of_range naming it when unknown.
  LinearWeights& linear(const std::string& name);
  const LinearWeights& linear(const std::string& name) const;
  /// Moves every parameter to `device` (a no-op for those already there).
  void to(c10::Device device);
};

}  // namespace dcomp::model
