// A Linear layer's weights and its forward, y = x Wᵀ + b, plus the hook through
// which calibration observes the inputs of the Linears in a decoder layer.
//
// reference: torch.nn.functional.linear (weight layout [out_features, in_features]).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace dcomp::model {

/// One Linear's parameters in fp32.
struct LinearWeights {
  at::Tensor weight;  // [out_features, in_features] fp32
  at::Tensor bias;    // [out_features] fp32, or undefined when the Linear has none
  /// Simulates the input activation quantization a compressed checkpoint declares
  /// (x [..., in] fp32 → quantized-then-dequantized x); empty when inputs stay fp32.
  std::function<at::Tensor(const at::Tensor&)> input_quantizer;

  int64_t out_features() const { return weight.size(0); }
  int64_t in_features() const { return weight.size(1); }
};

/// x [..., in_features] fp32 → [..., out_features] fp32.
at::Tensor linear_forward(const LinearWeights& linear, const at::Tensor& x);

/// Called once per distinct Linear input inside a decoder layer, with the names
/// (relative to the layer, e.g. "self_attn.q_proj") of every Linear that reads it
/// and the input itself as x [tokens, in_features] fp32 contiguous:
///   {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}  (input_layernorm output)
///   {"self_attn.o_proj"}                                          (attention output)
///   {"mlp.gate_proj", "mlp.up_proj"}                              (post_attention_layernorm output)
///   {"mlp.down_proj"}                                             (silu(gate) * up)
using LinearInputHook = std::function<void(const std::vector<std::string>& linear_names, const at::Tensor& x)>;

/// Calls `hook` (when non-null) with `x` [..., in] flattened to [tokens, in] contiguous.
void notify_linear_input(const LinearInputHook* hook, const std::vector<std::string>& linear_names, const at::Tensor& x);

}  // namespace dcomp::model
