#include "kernels/model/decoder_layer_weights.hpp"

#include <stdexcept>

#include <ATen/ATen.h>

namespace dcomp::model {

namespace {

LinearWeights& expert_linear(ExpertWeights& expert, LinearRole role) {
  if (role == LinearRole::ExpertGate || role == LinearRole::SharedGate) return expert.gate_proj;
  if (role == LinearRole::ExpertUp || role == LinearRole::SharedUp) return expert.up_proj;
  return expert.down_proj;
}

}  // namespace

LinearWeights& DecoderLayerWeights::linear(const std::string& name) {
  if (const LayerLinear* linear = layout->find(name)) {
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
  for (auto& [name, tensor] : parameters) move(tensor);
  for (const auto& name : linear_names()) {
    move(linear(name).weight);
    move(linear(name).bias);
  }
}

}  // namespace dcomp::model
