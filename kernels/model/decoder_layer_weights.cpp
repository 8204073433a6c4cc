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

LinearWeights& DecoderLayerWeights::linear(const std::string& name) {
  if (const LayerLinear* linear = layout ? layout->find(name) : nullptr; linear && linear->expert >= 0) {
    ExpertWeights& expert = experts.at(static_cast<size_t>(linear->expert));
    if (linear->role == LinearRole::ExpertGate) return expert.gate_proj;
    if (linear->role == LinearRole::ExpertUp) return expert.up_proj;
    return expert.down_proj;
  }
  if (sparse() && name == layout->router()) return router;
  if (name == "self_attn.q_proj") return q_proj;
  if (name == "self_attn.k_proj") return k_proj;
  if (name == "self_attn.v_proj") return v_proj;
  if (name == "self_attn.o_proj") return o_proj;
  if (name == "mlp.gate_proj") return gate_proj;
  if (name == "mlp.up_proj") return up_proj;
  if (name == "mlp.down_proj") return down_proj;
  throw std::out_of_range("decoder layer has no Linear named \"" + name + "\"");
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
  for (const auto& name : linear_names()) {
    move(linear(name).weight);
    move(linear(name).bias);
  }
}

}  // namespace dcomp::model
