// reference: see layer_layout.hpp.
#include "kernels/model/layer_layout.hpp"

#include <stdexcept>

namespace dcomp::model {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Mixtral names its expert Linears w1 (gate), w3 (up), w2 (down).
const char* expert_suffix(Architecture architecture, LinearRole role) {
  const bool mixtral = architecture == Architecture::Mixtral;
  switch (role) {
    case LinearRole::ExpertGate: return mixtral ? "w1" : "gate_proj";
    case LinearRole::ExpertUp: return mixtral ? "w3" : "up_proj";
    case LinearRole::ExpertDown: return mixtral ? "w2" : "down_proj";
    default: throw std::logic_error("not an expert role");
  }
}

}  // namespace

std::vector<std::string> LayerLayout::linear_names() const {
  std::vector<std::string> names;
  names.reserve(linears.size());
  for (const auto& linear : linears) names.push_back(linear.name);
  return names;
}

const LayerLinear* LayerLayout::find(const std::string& relative_name) const {
  const auto found = linear_index_.find(relative_name);
  return found == linear_index_.end() ? nullptr : &linears[found->second];
}

const LayerInput& LayerLayout::input_of(const std::string& relative_name) const {
  const auto found = input_index_.find(relative_name);
  if (found == input_index_.end()) throw std::out_of_range("decoder layer has no Linear named \"" + relative_name + "\"");
  return inputs[found->second];
}

std::string LayerLayout::expert_linear(int expert, LinearRole role) const {
  for (const auto& linear : linears) {
    if (linear.expert == expert && linear.role == role) return linear.name;
  }
  throw std::out_of_range("decoder layer has no expert " + std::to_string(expert) + " Linear of that role");
}

std::string LayerLayout::router() const { return sparse ? moe_prefix + "gate" : std::string(); }

LayerLayout decoder_layer_layout(const ModelConfig& config, int64_t layer_index) {
  const int64_t hidden = config.hidden_size;
  const int64_t query_width = config.num_attention_heads * config.head_dim;
  const int64_t kv_width = config.num_key_value_heads * config.head_dim;
  LayerLayout layout;
  layout.norms = {"input_layernorm", "post_attention_layernorm"};
  auto add_input = [&](std::string key, std::vector<LayerLinear> readers, int expert = -1) {
    LayerInput input{std::move(key), {}, readers.front().in_features, expert};
    for (auto& linear : readers) {
      input.linears.push_back(linear.name);
      layout.linear_index_[linear.name] = layout.linears.size();
      layout.input_index_[linear.name] = layout.inputs.size();
      layout.linears.push_back(std::move(linear));
    }
    layout.inputs.push_back(std::move(input));
  };
  add_input("input_layernorm", {{"self_attn.q_proj", LinearRole::Query, -1, query_width, hidden, config.qkv_bias},
                                {"self_attn.k_proj", LinearRole::Key, -1, kv_width, hidden, config.qkv_bias},
                                {"self_attn.v_proj", LinearRole::Value, -1, kv_width, hidden, config.qkv_bias}});
  add_input("self_attn.o_proj", {{"self_attn.o_proj", LinearRole::Output, -1, hidden, query_width, config.o_proj_bias}});
  if (!config.is_sparse_layer(layer_index)) {
    const int64_t intermediate = config.intermediate_size;
    add_input("post_attention_layernorm",
              {{"mlp.gate_proj", LinearRole::Gate, -1, intermediate, hidden, config.mlp_bias},
               {"mlp.up_proj", LinearRole::Up, -1, intermediate, hidden, config.mlp_bias}});
    add_input("mlp.down_proj", {{"mlp.down_proj", LinearRole::Down, -1, hidden, intermediate, config.mlp_bias}});
    return layout;
  }
  const MoeConfig& moe = *config.moe;
  layout.sparse = true;
  layout.num_experts = moe.num_experts;
  layout.moe_prefix = config.architecture == Architecture::Mixtral ? "block_sparse_moe." : "mlp.";
  add_input("post_attention_layernorm", {{layout.moe_prefix + "gate", LinearRole::Router, -1, moe.num_experts, hidden, false}});
  const int64_t intermediate = moe.expert_intermediate_size;
  for (int e = 0; e < static_cast<int>(moe.num_experts); ++e) {
    const std::string prefix = layout.moe_prefix + "experts." + std::to_string(e) + ".";
    const auto name = [&](LinearRole role) { return prefix + expert_suffix(config.architecture, role); };
    add_input(name(LinearRole::ExpertGate),
              {{name(LinearRole::ExpertGate), LinearRole::ExpertGate, e, intermediate, hidden, false},
               {name(LinearRole::ExpertUp), LinearRole::ExpertUp, e, intermediate, hidden, false}},
              e);
    add_input(name(LinearRole::ExpertDown), {{name(LinearRole::ExpertDown), LinearRole::ExpertDown, e, hidden, intermediate, false}},
              e);
  }
  return layout;
}

bool is_router_module(const std::string& module_name) {
  return ends_with(module_name, ".block_sparse_moe.gate") || ends_with(module_name, ".mlp.gate");
}

}  // namespace dcomp::model
