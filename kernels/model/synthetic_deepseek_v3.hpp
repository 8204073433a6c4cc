// The DeepseekV3ForCausalLM form of dcomp's synthetic model (create_synthetic_model with
// architecture "deepseek_v3"): multi-head latent attention (q_a/q_b with q_a_layernorm,
// kv_a_proj_with_mqa of kv_lora_rank + qk_rope_head_dim rows with kv_a_layernorm, kv_b, o),
// dense MLPs in the first first_k_dense_replace layers and from there routed experts with a
// sigmoid router, its F32 e_score_correction_bias and the shared experts.
//
// reference: transformers/models/deepseek_v3/modeling_deepseek_v3.py (module and weight
// names, shapes) and configuration_deepseek_v3.py; deepseek-ai/DeepSeek-V3 config.json and
// model.safetensors.index.json (the release's fields and dtypes).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "kernels/model/synthetic_checkpoint_writer.hpp"
#include "kernels/model/synthetic_model.hpp"
#include "kernels/model/synthetic_weights.hpp"

namespace dcomp::model {

/// config.json of the model (torch_dtype and vocabulary from the options, the release's
/// rope scaling, routing and MLA fields); checked by ModelConfig::from_json, whose refusal is
/// rethrown as std::invalid_argument.
nlohmann::json deepseek_v3_config(const SyntheticModelOptions& options);

/// Decoder Linear weight elements and other elements of layer `layer` (for sharding).
struct SyntheticLayerSize {
  int64_t linear_elements = 0, other_elements = 0;
};
SyntheticLayerSize deepseek_v3_layer_size(const SyntheticModelOptions& options, int64_t layer);

/// Draws and adds the tensors of decoder layer `layer` ("model.layers.<layer>.…").
void add_deepseek_v3_layer(SyntheticCheckpointWriter& writer, SyntheticWeights& weights,
                           const SyntheticModelOptions& options, int64_t layer);

}  // namespace dcomp::model
