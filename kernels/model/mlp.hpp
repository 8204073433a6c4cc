// The gated feed-forward block of the Llama family: down(silu(gate(x)) * up(x)).
//
// reference: Shazeer, "GLU Variants Improve Transformer" (2020) (SwiGLU);
// transformers/models/llama/modeling_llama.py (LlamaMLP).
#pragma once

#include <ATen/core/Tensor.h>

#include "kernels/model/decoder_layer_weights.hpp"
#include "kernels/model/linear.hpp"

namespace dcomp::model {

/// normed [batch, seq, hidden] fp32 (the post_attention_layernorm output) →
/// [batch, seq, hidden] fp32. The hook sees the gate/up input and the down input.
at::Tensor swiglu_mlp_forward(const DecoderLayerWeights& weights, const at::Tensor& normed,
                              const LinearInputHook* hook = nullptr);

/// The hook's two calls of swiglu_mlp_forward, without the down projection itself (whose
/// output a calibration pass does not use): 3 of the MLP's GEMMs become 2.
void swiglu_mlp_observe_inputs(const DecoderLayerWeights& weights, const at::Tensor& normed,
                               const LinearInputHook& hook);

}  // namespace dcomp::model
