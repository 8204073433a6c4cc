// config.json texts shared by the model-config tests, and the message a config is refused with.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "kernels/model/model_config.hpp"

namespace dcomp::model::testing {

/// A small Qwen3-MoE config.json: 4 layers, 8 experts of 32, top-2.
inline nlohmann::json qwen3_moe_config() {
  return nlohmann::json{{"architectures", {"Qwen3MoeForCausalLM"}},
                        {"hidden_size", 64},
                        {"intermediate_size", 96},
                        {"moe_intermediate_size", 32},
                        {"num_hidden_layers", 4},
                        {"num_attention_heads", 4},
                        {"num_key_value_heads", 2},
                        {"head_dim", 16},
                        {"num_experts", 8},
                        {"num_experts_per_tok", 2},
                        {"vocab_size", 100},
                        {"max_position_embeddings", 256},
                        {"rms_norm_eps", 1e-6}};
}

/// The ModelConfigError message `json` is refused with, read as `path`; "" when accepted.
inline std::string config_error(const nlohmann::json& json, const std::string& path) {
  try {
    ModelConfig::from_json(json, path);
  } catch (const ModelConfigError& error) {
    return error.what();
  }
  return "";
}

}  // namespace dcomp::model::testing
