#include "kernels/model/decoder_layer_weights.hpp"

#include <stdexcept>

#include <ATen/ATen.h>

namespace dcomp::model {

const std::vector<std::string>& DecoderLayerWeights::linear_names() {
  static const std::vector<std::string> names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                                 "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                                 "mlp.down_proj"};
  return names;
}

LinearWeights& DecoderLayerWeights::linear(const std::string& name) {
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
