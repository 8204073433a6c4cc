#include "kernels/model/synthetic_deepseek_v3.hpp"

#include <ATen/ATen.h>

#include <stdexcept>

#include "kernels/model/model_config.hpp"
#include "kernels/io/layer_names.hpp"

namespace dcomp::model {
namespace {

bool is_sparse_layer(const SyntheticModelOptions& o, int64_t layer) {
  return layer >= o.deepseek.first_k_dense_replace;
}

// SwiGLU MLP "<prefix>{gate,up,down}_proj.weight" of `intermediate` channels.
void add_mlp(SyntheticCheckpointWriter& writer, SyntheticWeights& weights, const std::string& prefix,
             int64_t hidden, int64_t intermediate) {
  writer.add_linear(prefix + "gate_proj.weight", weights.linear(intermediate, hidden));
  writer.add_linear(prefix + "up_proj.weight", weights.linear(intermediate, hidden));
  writer.add_linear(prefix + "down_proj.weight", weights.linear(hidden, intermediate));
}

void add_latent_attention(SyntheticCheckpointWriter& writer, SyntheticWeights& weights,
                          const SyntheticModelOptions& o, const std::string& p) {
  const SyntheticDeepseekOptions& d = o.deepseek;
  const int64_t heads = o.num_attention_heads;
  writer.add_linear(p + "q_a_proj.weight", weights.linear(d.q_lora_rank, o.hidden_size));
  writer.add(p + "q_a_layernorm.weight", weights.norm(d.q_lora_rank));
  writer.add_linear(p + "q_b_proj.weight",
                    weights.linear(heads * (d.qk_nope_head_dim + d.qk_rope_head_dim), d.q_lora_rank));
  // [kv_lora_rank + qk_rope_head_dim, hidden]: 576 rows in the release, a partial 128-block.
  writer.add_linear(p + "kv_a_proj_with_mqa.weight", weights.linear(d.kv_lora_rank + d.qk_rope_head_dim, o.hidden_size));
  writer.add(p + "kv_a_layernorm.weight", weights.norm(d.kv_lora_rank));
  writer.add_linear(p + "kv_b_proj.weight", weights.linear(heads * (d.qk_nope_head_dim + d.v_head_dim), d.kv_lora_rank));
  writer.add_linear(p + "o_proj.weight", weights.linear(o.hidden_size, heads * d.v_head_dim));
}

}  // namespace

nlohmann::json deepseek_v3_config(const SyntheticModelOptions& o) {
  const SyntheticDeepseekOptions& d = o.deepseek;
  nlohmann::json config = {
      {"architectures", {"DeepseekV3ForCausalLM"}},
      {"model_type", "deepseek_v3"},
      {"attention_bias", false},
      {"attention_dropout", 0.0},
      {"bos_token_id", 256},
      {"eos_token_id", 257},
      {"first_k_dense_replace", d.first_k_dense_replace},
      {"hidden_act", "silu"},
      {"hidden_size", o.hidden_size},
      {"initializer_range", 0.02},
      {"intermediate_size", o.intermediate_size},
      {"kv_lora_rank", d.kv_lora_rank},
      {"max_position_embeddings", o.max_position_embeddings},
      {"moe_intermediate_size", o.expert_intermediate_size},
      {"moe_layer_freq", 1},
      {"n_group", d.n_group},
      {"n_routed_experts", o.num_experts},
      {"n_shared_experts", d.n_shared_experts},
      {"norm_topk_prob", true},
      {"num_attention_heads", o.num_attention_heads},
      {"num_experts_per_tok", o.experts_per_token},
      {"num_hidden_layers", o.num_layers},
      {"num_key_value_heads", o.num_attention_heads},
      {"num_nextn_predict_layers", 0},  // no multi-token-prediction layer is written
      {"q_lora_rank", d.q_lora_rank},
      {"qk_nope_head_dim", d.qk_nope_head_dim},
      {"qk_rope_head_dim", d.qk_rope_head_dim},
      {"rms_norm_eps", 1e-6},
      {"rope_scaling",
       {{"beta_fast", 32}, {"beta_slow", 1}, {"factor", 40}, {"mscale", 1.0}, {"mscale_all_dim", 1.0},
        {"original_max_position_embeddings", 4096}, {"type", "yarn"}}},
      {"rope_theta", 10000},
      {"routed_scaling_factor", d.routed_scaling_factor},
      {"scoring_func", "sigmoid"},
      {"tie_word_embeddings", false},
      {"topk_group", d.topk_group},
      {"topk_method", "noaux_tc"},
      {"torch_dtype", o.dtype},
      {"use_cache", true},
      {"v_head_dim", d.v_head_dim},
      {"vocab_size", o.vocab_size}};
  try {
    (void)ModelConfig::from_json(config, "the synthetic DeepSeek-V3 config.json");
  } catch (const ModelConfigError& error) {
    throw std::invalid_argument(std::string("synthetic model: ") + error.what());
  }
  return config;
}

SyntheticLayerSize deepseek_v3_layer_size(const SyntheticModelOptions& o, int64_t layer) {
  const SyntheticDeepseekOptions& d = o.deepseek;
  const int64_t h = o.hidden_size, heads = o.num_attention_heads;
  SyntheticLayerSize size;
  size.linear_elements = d.q_lora_rank * h + heads * (d.qk_nope_head_dim + d.qk_rope_head_dim) * d.q_lora_rank +
                         (d.kv_lora_rank + d.qk_rope_head_dim) * h +
                         heads * (d.qk_nope_head_dim + d.v_head_dim) * d.kv_lora_rank + h * heads * d.v_head_dim;
  size.other_elements = 2 * h + d.q_lora_rank + d.kv_lora_rank;
  if (is_sparse_layer(o, layer)) {
    size.linear_elements += (o.num_experts + d.n_shared_experts) * 3 * h * o.expert_intermediate_size;
    size.other_elements += o.num_experts * h + o.num_experts;
  } else {
    size.linear_elements += 3 * h * o.intermediate_size;
  }
  return size;
}

void add_deepseek_v3_layer(SyntheticCheckpointWriter& writer, SyntheticWeights& weights,
                           const SyntheticModelOptions& o, int64_t layer) {
  const std::string p = io::layer_prefix(layer);
  writer.add(p + "input_layernorm.weight", weights.norm(o.hidden_size));
  add_latent_attention(writer, weights, o, p + "self_attn.");
  writer.add(p + "post_attention_layernorm.weight", weights.norm(o.hidden_size));
  if (!is_sparse_layer(o, layer)) {
    add_mlp(writer, weights, p + "mlp.", o.hidden_size, o.intermediate_size);
    return;
  }
  // The router stays in the model's dtype and its correction bias in F32, as released.
  writer.add(p + "mlp.gate.weight", weights.linear(o.num_experts, o.hidden_size));
  writer.add_as_is(p + "mlp.gate.e_score_correction_bias", 0.01 * weights.normal({o.num_experts}));
  for (int64_t e = 0; e < o.num_experts; ++e) {
    add_mlp(writer, weights, p + "mlp.experts." + std::to_string(e) + ".", o.hidden_size, o.expert_intermediate_size);
  }
  if (o.deepseek.n_shared_experts > 0) {
    add_mlp(writer, weights, p + "mlp.shared_experts.", o.hidden_size,
            o.expert_intermediate_size * o.deepseek.n_shared_experts);
  }
}

}  // namespace dcomp::model
