#include "actors/llama_model_handle.hpp"

namespace dcomp::actors {

std::string layer_module_name(int layer_index, const std::string& relative_name) {
  return "model.layers." + std::to_string(layer_index) + "." + relative_name;
}

std::string LlamaModelHandle::architecture() const {
  switch (config_.architecture) {
    case model::Architecture::Llama: return "LlamaForCausalLM";
    case model::Architecture::Mistral: return "MistralForCausalLM";
    case model::Architecture::Qwen2: return "Qwen2ForCausalLM";
    case model::Architecture::Qwen3: return "Qwen3ForCausalLM";
  }
  return "unknown";
}

std::vector<lifecycle::ModuleInfo> LlamaModelHandle::modules() const {
  const auto& c = config_;
  const int64_t q_out = c.num_attention_heads * c.head_dim;
  const int64_t kv_out = c.num_key_value_heads * c.head_dim;
  std::vector<lifecycle::ModuleInfo> out;
  out.push_back({"model.embed_tokens", {"Embedding"}, c.vocab_size, c.hidden_size});
  for (int i = 0; i < static_cast<int>(c.num_hidden_layers); ++i) {
    out.push_back({layer_module_name(i, "input_layernorm"), {"RMSNorm"}, c.hidden_size, c.hidden_size});
    out.push_back({layer_module_name(i, "self_attn.q_proj"), {"Linear"}, c.hidden_size, q_out});
    out.push_back({layer_module_name(i, "self_attn.k_proj"), {"Linear"}, c.hidden_size, kv_out});
    out.push_back({layer_module_name(i, "self_attn.v_proj"), {"Linear"}, c.hidden_size, kv_out});
    out.push_back({layer_module_name(i, "self_attn.o_proj"), {"Linear"}, q_out, c.hidden_size});
    out.push_back({layer_module_name(i, "post_attention_layernorm"), {"RMSNorm"}, c.hidden_size, c.hidden_size});
    out.push_back({layer_module_name(i, "mlp.gate_proj"), {"Linear"}, c.hidden_size, c.intermediate_size});
    out.push_back({layer_module_name(i, "mlp.up_proj"), {"Linear"}, c.hidden_size, c.intermediate_size});
    out.push_back({layer_module_name(i, "mlp.down_proj"), {"Linear"}, c.intermediate_size, c.hidden_size});
  }
  out.push_back({"model.norm", {"RMSNorm"}, c.hidden_size, c.hidden_size});
  out.push_back({"lm_head", {"Linear"}, c.hidden_size, c.vocab_size});
  return out;
}

}  // namespace dcomp::actors
