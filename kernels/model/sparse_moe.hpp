// The sparse mixture-of-experts MLP of Mixtral, Qwen3-MoE and DeepSeek-V3: a router Linear
// scores the experts per token, the top_k are run on the tokens routed to them and their
// SwiGLU outputs are summed, weighted by the router's probabilities; DeepSeek-V3 adds its
// shared experts' SwiGLU output of every token.
//
// reference: transformers/models/mixtral/modeling_mixtral.py (MixtralTopKRouter,
// MixtralExperts), transformers/models/qwen3_moe/modeling_qwen3_moe.py (Qwen3MoeTopKRouter:
// softmax in fp32, topk, optional renormalisation), transformers/models/deepseek_v3/
// modeling_deepseek_v3.py (DeepseekV3TopkRouter: sigmoid, e_score_correction_bias for the
// choice only, group-limited top-k, routed_scaling_factor; DeepseekV3MoE); llm-compressor modeling/moe
// (calibrate_all_experts: every expert sees every token, the output keeps the routing).
#pragma once

#include <functional>

#include <ATen/core/Tensor.h>

#include "kernels/model/decoder_layer_weights.hpp"
#include "kernels/model/linear.hpp"
#include "kernels/model/model_config.hpp"

namespace dcomp::model {

/// The experts picked for each token and their weights.
struct ExpertRouting {
  at::Tensor weights;  // [tokens, top_k] fp32, by descending choice score per token
  at::Tensor experts;  // [tokens, top_k] int64
};

/// router_logits [tokens, E] fp32 → the top_k experts of each token by softmax probability,
/// renormalised to sum to one when moe.norm_topk_prob. Sigmoid scoring (DeepSeek-V3): chosen
/// by sigmoid score + `correction_bias` [E] (when defined) among the topk_group best of n_group
/// groups; weighted by the sigmoid scores (renormalised when norm_topk_prob) times
/// routed_scaling_factor.
ExpertRouting route_tokens(const MoeConfig& moe, const at::Tensor& router_logits,
                           const at::Tensor& correction_bias = {});

/// How a calibration pass observes a sparse MLP.
struct ExpertCalibration {
  /// Every expert sees every token (llm-compressor's moe_calibrate_all_experts); otherwise each
  /// expert sees the tokens routed to it.
  bool all_experts = false;
  /// Called once per forward with the routing's chosen experts [tokens, top_k] int64.
  std::function<void(const at::Tensor& experts)> on_routing;
};

/// normed [batch, seq, hidden] fp32 (the post_attention_layernorm output) → [batch, seq, hidden]
/// fp32. The hook sees the router's input (every token; the shared experts' gate/up read it too),
/// then per expert with routed tokens, in expert order, its gate/up input [routed tokens, hidden]
/// and its down input, then the shared experts' down input.
at::Tensor sparse_moe_forward(const ModelConfig& config, const DecoderLayerWeights& weights, const at::Tensor& normed,
                              const LinearInputHook* hook = nullptr);

/// The hook's calls of sparse_moe_forward without the down projections and the weighted sum (a
/// calibration pass recomputes the output later). With calibration.all_experts, every expert's
/// gate/up input is the router's input, which the hook sees once (under the router's name), and
/// each expert's down input is its activation of every token.
void sparse_moe_observe_inputs(const ModelConfig& config, const DecoderLayerWeights& weights,
                               const at::Tensor& normed, const LinearInputHook& hook,
                               const ExpertCalibration& calibration);

}  // namespace dcomp::model
