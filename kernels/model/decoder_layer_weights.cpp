#include "kernels/model/decoder_layer_weights.hpp"

#include <stdexcept>

#include <ATen/ATen.h>

namespace dcomp::model {

std::vector<std::string> DecoderLayerWeights::linear_names() const {
  return layout ? layout->linear_names() : dense_linear_names();
}

const std::vector<std::string>& DecoderLayerWeights::dense_linear_names() {
  static const std::vector<std::string> names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                                 "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                                 "mlp.down_proj"};
  return names;
}

namespace {

LinearWeights& expert_linear(ExpertWeights& expert, LinearRole role) {
  if (role == LinearRole::ExpertGate || role == LinearRole::SharedGate) return expert.gate_proj;
  if (role == LinearRole::ExpertUp || role == LinearRole::SharedUp) return expert.up_proj;
  return expert.down_proj;
}

}  // namespace

LinearWeights& DecoderLayerWeights::linear(const std::string& name) {
  if (const LayerLinear* linear = layout ? layout->find(name) : nullptr) {
    switch (linear->role) {
      case LinearRole::ExpertGate:
      case LinearRole::ExpertUp:
      case LinearRole::ExpertDown: return expert_linear(experts.at(static_cast<size_t>(linear->expert)), linear->role);
      case LinearRole::SharedGate:
      case LinearRole::SharedUp:
      case LinearRole::SharedDown: return expert_linear(shared_experts, linear->role);
      case LinearRole::Router: return router;
      case LinearRole::LatentQueryA: return q_a_proj;
      case LinearRole::LatentQueryB: return q_b_proj;
      case LinearRole::LatentKeyValueA: return kv_a_proj;
      case LinearRole::LatentKeyValueB: return kv_b_proj;
      case LinearRole::Query: return q_proj;
      case LinearRole::Key: return k_proj;
      case LinearRole::Value: return v_proj;
      case LinearRole::Output: return o_proj;
      case LinearRole::Gate: return gate_proj;
      case LinearRole::Up: return up_proj;
      case LinearRole::Down: return down_proj;
    }
  }
  if (layout) throw std::out_of_range("decoder layer has no Linear named \"" + name + "\"");
  // A dense layer built by hand, without a layout.
  if (name == "self_attn.q_proj") return q_proj;
  if (name == "self_attn.k_proj") return k_proj;
  if (name == "self_attn.v_proj") return v_proj;
  if (name == "self_attn.o_proj") return o_proj;
  if (name == "mlp.gate_proj") return gate_proj;
  if (name == "mlp.up_proj") return up_proj;
  if (name == "mlp.down_proj") return down_proj;
  throw std::out_of_range("decoder layer has no Linear named \"" + name + "\"");
}

const at::Tensor& DecoderLayerWeights::parameter(const std::string& name) const {
  const auto found = parameters.find(name);
  if (found == parameters.end()) throw std::out_of_range("decoder layer has no parameter named \"" + name + "\"");
  return found->second;
}

const LinearWeights& DecoderLayerWeights::linear(const std::string& name) const {
  return const_cast<DecoderLayerWeights*>(this)->linear(name);
}

void DecoderLayerWeights::to(c10::Device device) {
  auto move = [device](at::Tensor& tensor) {
    if (tensor.defined()) tensor = tensor.to(device);
  };
  move(input_layernorm);
  move(post_attention_layernorm);
  move(q_norm);
  move(k_norm);
  for (auto& [name, tensor] : parameters) move(tensor);
  for (const auto& name : linear_names()) {
    move(linear(name).weight);
    move(linear(name).bias);
  }
}

}  // namespace dcomp::model
