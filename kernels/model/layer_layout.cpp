// reference: see layer_layout.hpp.
#include "kernels/model/layer_layout.hpp"
#include "kernels/io/name_affixes.hpp"

#include <stdexcept>

namespace dcomp::model {
namespace {


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

std::string LayerLayout::linear_of(LinearRole role) const {
  for (const auto& linear : linears) {
    if (linear.role == role && linear.expert < 0) return linear.name;
  }
  throw std::out_of_range("decoder layer has no Linear of that role");
}

bool LayerLayout::has(LinearRole role) const {
  for (const auto& linear : linears) {
    if (linear.role == role) return true;
  }
  return false;
}

const std::vector<std::string>& LayerLayout::readers_with(LinearRole role) const {
  return input_of(linear_of(role)).linears;
}

const std::string& LayerLayout::parameter_of(ParameterRole role) const {
  for (const auto& parameter : parameters) {
    if (parameter.role == role) return parameter.name;
  }
  throw std::out_of_range("decoder layer has no parameter of that role");
}

bool LayerLayout::has(ParameterRole role) const {
  for (const auto& parameter : parameters) {
    if (parameter.role == role) return true;
  }
  return false;
}

std::vector<std::string> LayerLayout::fused_with(const std::string& relative_name) const {
  for (const auto& group : fused_groups) {
    for (const auto& name : group) {
      if (name == relative_name) return group;
    }
  }
  return {};
}

std::vector<std::string> LayerLayout::smoothable_norms() const {
  std::vector<std::string> modules;
  for (const auto& parameter : parameters) {
    if (parameter.role == ParameterRole::AttentionNorm || parameter.role == ParameterRole::MlpNorm) {
      modules.push_back(parameter.module());
    }
  }
  return modules;
}

namespace {

// Appends one distinct input and its readers (all reading `key`'s output) to a layout.
class LayoutBuilder {
 public:
  explicit LayoutBuilder(LayerLayout& layout, std::map<std::string, size_t>& linear_index,
                         std::map<std::string, size_t>& input_index)
      : layout_(layout), linear_index_(linear_index), input_index_(input_index) {}

  void add_input(std::string key, std::vector<LayerLinear> readers, int expert = -1) {
    LayerInput input{std::move(key), {}, readers.front().in_features, expert};
    for (auto& linear : readers) {
      input.linears.push_back(linear.name);
      linear_index_[linear.name] = layout_.linears.size();
      input_index_[linear.name] = layout_.inputs.size();
      layout_.linears.push_back(std::move(linear));
    }
    layout_.inputs.push_back(std::move(input));
  }

 private:
  LayerLayout& layout_;
  std::map<std::string, size_t>& linear_index_;
  std::map<std::string, size_t>& input_index_;
};

// Grouped-query attention: q/k/v read the normed hidden states, o_proj the attention output;
// Qwen3 and GLM-4.5 (qk_norm) normalise each query and key head.
void add_grouped_query_attention(const ModelConfig& config, LayerLayout& layout, LayoutBuilder& builder) {
  const int64_t hidden = config.hidden_size;
  const int64_t query_width = config.num_attention_heads * config.head_dim;
  const int64_t kv_width = config.num_key_value_heads * config.head_dim;
  builder.add_input("input_layernorm", {{"self_attn.q_proj", LinearRole::Query, -1, query_width, hidden, config.qkv_bias},
                                        {"self_attn.k_proj", LinearRole::Key, -1, kv_width, hidden, config.qkv_bias},
                                        {"self_attn.v_proj", LinearRole::Value, -1, kv_width, hidden, config.qkv_bias}});
  layout.fused_groups.push_back({"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"});
  if (config.qk_norm) {
    layout.parameters.push_back({"self_attn.q_norm.weight", {config.head_dim}, ParameterRole::QueryNorm});
    layout.parameters.push_back({"self_attn.k_norm.weight", {config.head_dim}, ParameterRole::KeyNorm});
  }
  builder.add_input("self_attn.o_proj",
                    {{"self_attn.o_proj", LinearRole::Output, -1, hidden, query_width, config.o_proj_bias}});
}

// Multi-head latent attention: q_a_proj (or q_proj) and kv_a_proj_with_mqa read the normed hidden
// states, q_b_proj the q_a_layernorm output, kv_b_proj the kv_a_layernorm output.
void add_latent_attention(const ModelConfig& config, LayerLayout& layout, LayoutBuilder& builder) {
  const LatentAttentionConfig& mla = *config.latent_attention;
  const int64_t hidden = config.hidden_size;
  const int64_t heads = config.num_attention_heads;
  const bool bias = config.qkv_bias;  // attention_bias: q_a_proj, kv_a_proj_with_mqa and o_proj
  const LayerLinear kv_a{"self_attn.kv_a_proj_with_mqa", LinearRole::LatentKeyValueA, -1,
                         mla.kv_lora_rank + mla.qk_rope_head_dim, hidden, bias};
  if (mla.q_lora_rank) {
    builder.add_input("input_layernorm",
                      {{"self_attn.q_a_proj", LinearRole::LatentQueryA, -1, *mla.q_lora_rank, hidden, bias}, kv_a});
    layout.fused_groups.push_back({"self_attn.q_a_proj", kv_a.name});
    builder.add_input("self_attn.q_a_layernorm", {{"self_attn.q_b_proj", LinearRole::LatentQueryB, -1,
                                                   heads * mla.qk_head_dim(), *mla.q_lora_rank, false}});
    layout.parameters.push_back(
        {"self_attn.q_a_layernorm.weight", {*mla.q_lora_rank}, ParameterRole::LatentQueryNorm});
  } else {
    builder.add_input("input_layernorm",
                      {{"self_attn.q_proj", LinearRole::Query, -1, heads * mla.qk_head_dim(), hidden, false}, kv_a});
  }
  builder.add_input("self_attn.kv_a_layernorm",
                    {{"self_attn.kv_b_proj", LinearRole::LatentKeyValueB, -1,
                      heads * (mla.qk_nope_head_dim + mla.v_head_dim), mla.kv_lora_rank, false}});
  layout.parameters.push_back({"self_attn.kv_a_layernorm.weight", {mla.kv_lora_rank}, ParameterRole::LatentKeyValueNorm});
  builder.add_input("self_attn.o_proj",
                    {{"self_attn.o_proj", LinearRole::Output, -1, hidden, heads * mla.v_head_dim, config.o_proj_bias}});
}

void add_dense_mlp(const ModelConfig& config, LayerLayout& layout, LayoutBuilder& builder) {
  const int64_t hidden = config.hidden_size, intermediate = config.intermediate_size;
  builder.add_input("post_attention_layernorm",
                    {{"mlp.gate_proj", LinearRole::Gate, -1, intermediate, hidden, config.mlp_bias},
                     {"mlp.up_proj", LinearRole::Up, -1, intermediate, hidden, config.mlp_bias}});
  layout.fused_groups.push_back({"mlp.gate_proj", "mlp.up_proj"});
  builder.add_input("mlp.down_proj", {{"mlp.down_proj", LinearRole::Down, -1, hidden, intermediate, config.mlp_bias}});
}

// The router (with the shared experts' gate/up, which read the same input), the routed experts,
// then the shared experts' down projection.
void add_sparse_mlp(const ModelConfig& config, LayerLayout& layout, LayoutBuilder& builder) {
  const MoeConfig& moe = *config.moe;
  const int64_t hidden = config.hidden_size;
  layout.sparse = true;
  layout.num_experts = moe.num_experts;
  layout.moe_prefix = config.architecture == Architecture::Mixtral ? "block_sparse_moe." : "mlp.";
  const std::string shared = layout.moe_prefix + "shared_experts.";
  const int64_t shared_width = moe.shared_intermediate_size;
  std::vector<LayerLinear> router_readers = {
      {layout.moe_prefix + "gate", LinearRole::Router, -1, moe.num_experts, hidden, false}};
  if (shared_width > 0) {
    router_readers.push_back({shared + "gate_proj", LinearRole::SharedGate, -1, shared_width, hidden, false});
    router_readers.push_back({shared + "up_proj", LinearRole::SharedUp, -1, shared_width, hidden, false});
    layout.fused_groups.push_back({shared + "gate_proj", shared + "up_proj"});
  }
  builder.add_input("post_attention_layernorm", std::move(router_readers));
  if (moe.score_correction_bias) {
    layout.parameters.push_back(
        {layout.moe_prefix + "gate.e_score_correction_bias", {moe.num_experts}, ParameterRole::ScoreCorrectionBias});
  }
  const int64_t intermediate = moe.expert_intermediate_size;
  for (int e = 0; e < static_cast<int>(moe.num_experts); ++e) {
    const std::string prefix = layout.moe_prefix + "experts." + std::to_string(e) + ".";
    const auto name = [&](LinearRole role) { return prefix + expert_suffix(config.architecture, role); };
    builder.add_input(name(LinearRole::ExpertGate),
                      {{name(LinearRole::ExpertGate), LinearRole::ExpertGate, e, intermediate, hidden, false},
                       {name(LinearRole::ExpertUp), LinearRole::ExpertUp, e, intermediate, hidden, false}},
                      e);
    layout.fused_groups.push_back({name(LinearRole::ExpertGate), name(LinearRole::ExpertUp)});
    builder.add_input(name(LinearRole::ExpertDown),
                      {{name(LinearRole::ExpertDown), LinearRole::ExpertDown, e, hidden, intermediate, false}}, e);
  }
  if (shared_width > 0) {
    builder.add_input(shared + "down_proj",
                      {{shared + "down_proj", LinearRole::SharedDown, -1, hidden, shared_width, false}});
  }
}

}  // namespace

LayerLayout decoder_layer_layout(const ModelConfig& config, int64_t layer_index) {
  LayerLayout layout;
  LayoutBuilder builder(layout, layout.linear_index_, layout.input_index_);
  layout.architecture = architecture_name(config.architecture);
  layout.parameters.push_back({"input_layernorm.weight", {config.hidden_size}, ParameterRole::AttentionNorm});
  if (config.latent_attention) {
    layout.attention = AttentionKind::Latent;
    add_latent_attention(config, layout, builder);
  } else {
    add_grouped_query_attention(config, layout, builder);
  }
  layout.parameters.push_back({"post_attention_layernorm.weight", {config.hidden_size}, ParameterRole::MlpNorm});
  if (config.is_sparse_layer(layer_index)) {
    add_sparse_mlp(config, layout, builder);
  } else {
    add_dense_mlp(config, layout, builder);
  }
  return layout;
}

bool is_router_module(const std::string& module_name) {
  return io::ends_with(module_name, ".block_sparse_moe.gate") || io::ends_with(module_name, ".mlp.gate");
}

}  // namespace dcomp::model
