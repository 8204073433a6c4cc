// reference: transformers/models/llama/modeling_llama.py (LlamaMLP.forward with ACT2FN["silu"]).
#include "kernels/model/mlp.hpp"

#include <ATen/ATen.h>

namespace dcomp::model {

namespace {

// silu(gate(x)) * up(x): the down projection's input [B, S, I].
at::Tensor down_projection_input(const DecoderLayerWeights& weights, const at::Tensor& normed,
                                 const LinearInputHook* hook) {
  notify_linear_input(hook, weights.layout->readers_with(LinearRole::Gate), normed);
  const at::Tensor gate = linear_forward(weights.gate_proj, normed);  // [B, S, I]
  const at::Tensor up = linear_forward(weights.up_proj, normed);      // [B, S, I]
  const at::Tensor activated = at::silu(gate).mul_(up);              // [B, S, I]
  notify_linear_input(hook, weights.layout->readers_with(LinearRole::Down), activated);
  return activated;
}

}  // namespace

at::Tensor swiglu_mlp_forward(const DecoderLayerWeights& weights, const at::Tensor& normed, const LinearInputHook* hook) {
  return linear_forward(weights.down_proj, down_projection_input(weights, normed, hook));  // [B, S, hidden]
}

void swiglu_mlp_observe_inputs(const DecoderLayerWeights& weights, const at::Tensor& normed,
                               const LinearInputHook& hook) {
  down_projection_input(weights, normed, &hook);
}

}  // namespace dcomp::model
