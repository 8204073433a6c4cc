// Small random configs and decoder-layer weights for checking the forward pass
// against brute-force computations.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "kernels/model/decoder_layer_weights.hpp"
#include "kernels/model/layer_layout.hpp"
#include "kernels/model/model_config.hpp"

namespace dcomp::model::testing {

/// A tiny config of the given architecture: hidden 16, 4 heads over 2 KV heads
/// (GQA), head_dim 4 (6 for Qwen3, explicit), intermediate 24, 2 layers, vocab 50.
inline ModelConfig tiny_config(const std::string& architecture, const nlohmann::json& overrides = nlohmann::json::object()) {
  nlohmann::json json{{"architectures", {architecture}},
                      {"hidden_size", 16},
                      {"intermediate_size", 24},
                      {"num_hidden_layers", 2},
                      {"num_attention_heads", 4},
                      {"num_key_value_heads", 2},
                      {"vocab_size", 50},
                      {"max_position_embeddings", 64},
                      {"rms_norm_eps", 1e-5},
                      {"rope_theta", 100.0},
                      {"bos_token_id", 1},
                      {"eos_token_id", 2}};
  if (architecture == "Qwen3ForCausalLM") json["head_dim"] = 6;
  json.update(overrides);
  return ModelConfig::from_json(json, "tiny/config.json");
}

inline LinearWeights random_linear(int64_t out, int64_t in, bool bias) {
  LinearWeights linear;
  linear.weight = at::randn({out, in}, at::kFloat) / std::sqrt(static_cast<double>(in));
  if (bias) linear.bias = at::randn({out}, at::kFloat) * 0.1;
  return linear;
}

/// Random weights of a dense layer with the shapes `config` implies, written out field by
/// field (the brute-force references read them so; norm weights around 1), with the layout
/// of layer 0.
inline DecoderLayerWeights random_layer(const ModelConfig& config) {
  const int64_t hidden = config.hidden_size;
  const int64_t q_width = config.num_attention_heads * config.head_dim;
  const int64_t kv_width = config.num_key_value_heads * config.head_dim;
  DecoderLayerWeights layer;
  layer.layout = std::make_shared<const LayerLayout>(decoder_layer_layout(config, 0));
  layer.parameters["input_layernorm.weight"] = 1 + 0.2 * at::randn({hidden}, at::kFloat);
  layer.parameters["post_attention_layernorm.weight"] = 1 + 0.2 * at::randn({hidden}, at::kFloat);
  layer.q_proj = random_linear(q_width, hidden, config.qkv_bias);
  layer.k_proj = random_linear(kv_width, hidden, config.qkv_bias);
  layer.v_proj = random_linear(kv_width, hidden, config.qkv_bias);
  layer.o_proj = random_linear(hidden, q_width, config.o_proj_bias);
  layer.gate_proj = random_linear(config.intermediate_size, hidden, config.mlp_bias);
  layer.up_proj = random_linear(config.intermediate_size, hidden, config.mlp_bias);
  layer.down_proj = random_linear(hidden, config.intermediate_size, config.mlp_bias);
  if (config.qk_norm) {
    layer.parameters["self_attn.q_norm.weight"] = 1 + 0.2 * at::randn({config.head_dim}, at::kFloat);
    layer.parameters["self_attn.k_norm.weight"] = 1 + 0.2 * at::randn({config.head_dim}, at::kFloat);
  }
  return layer;
}

}  // namespace dcomp::model::testing
