// reference: transformers/models/qwen3_moe/modeling_qwen3_moe.py (Qwen3MoeTopKRouter.forward,
// Qwen3MoeExperts.forward), transformers/models/mixtral/modeling_mixtral.py (same, always
// renormalised), transformers/models/deepseek_v3/modeling_deepseek_v3.py (DeepseekV3TopkRouter.forward,
// DeepseekV3MoE.forward); llm-compressor modeling/moe/linear_experts.py (calibrate_all_experts).
#include "kernels/model/sparse_moe.hpp"

#include <ATen/ATen.h>

#include <limits>
#include <string>
#include <vector>

namespace dcomp::model {
namespace {

struct ExpertNames {
  std::vector<std::string> gate_up;  // {gate, up}: they read the same input
  std::vector<std::string> down;
};

std::vector<ExpertNames> expert_names(const LayerLayout& layout) {
  std::vector<ExpertNames> names(static_cast<size_t>(layout.num_experts));
  for (int e = 0; e < static_cast<int>(layout.num_experts); ++e) {
    names[e].gate_up = {layout.expert_linear(e, LinearRole::ExpertGate), layout.expert_linear(e, LinearRole::ExpertUp)};
    names[e].down = {layout.expert_linear(e, LinearRole::ExpertDown)};
  }
  return names;
}

// silu(gate(x)) * up(x) for x [tokens, hidden] → [tokens, I_e] fp32.
at::Tensor expert_activation(const ExpertWeights& expert, const at::Tensor& x) {
  return at::silu(linear_forward(expert.gate_proj, x)).mul_(linear_forward(expert.up_proj, x));
}

// The tokens routed to each expert: indices [n_e] int64 ascending and their routing weights
// [n_e] fp32 (a token picks an expert at most once, so the masked sum is that one weight).
struct RoutedTokens {
  at::Tensor tokens;
  at::Tensor weights;
};

std::vector<RoutedTokens> tokens_per_expert(const ExpertRouting& routing, int64_t num_experts) {
  std::vector<RoutedTokens> routed(static_cast<size_t>(num_experts));
  // Sorting the flattened choices by expert groups each expert's tokens in ascending order.
  const at::Tensor flat_experts = routing.experts.reshape({-1});  // [tokens * top_k] int64
  const int64_t top_k = routing.experts.size(1);
  const at::Tensor order = at::argsort(flat_experts * routing.experts.size(0) * top_k +
                                       at::arange(flat_experts.numel(), flat_experts.options()));
  const at::Tensor sorted_experts = flat_experts.index_select(0, order);
  const at::Tensor counts = at::bincount(sorted_experts, {}, num_experts).to(at::kCPU).to(at::kLong);  // [E]
  const at::Tensor token_of = at::floor_divide(order, top_k);                               // [tokens * top_k]
  const at::Tensor weight_of = routing.weights.reshape({-1}).index_select(0, order);
  const int64_t* count = counts.data_ptr<int64_t>();
  int64_t start = 0;
  for (int64_t e = 0; e < num_experts; ++e) {
    if (count[e] > 0) routed[e] = {token_of.narrow(0, start, count[e]), weight_of.narrow(0, start, count[e])};
    start += count[e];
  }
  return routed;
}

ExpertRouting route(const ModelConfig& config, const DecoderLayerWeights& weights, const at::Tensor& flat,
                    const LinearInputHook* hook) {
  const std::string router = weights.layout->router();
  notify_linear_input(hook, weights.layout->input_of(router).linears, flat);  // the router (and shared gate/up)
  const at::Tensor logits = linear_forward(weights.router, flat);  // [tokens, E] fp32
  const std::string bias = router + ".e_score_correction_bias";
  return route_tokens(*config.moe, logits, weights.parameters.count(bias) ? weights.parameter(bias) : at::Tensor());
}

// The shared experts' down projection input silu(gate(x)) * up(x) [tokens, S], or undefined
// when the layer has no shared experts.
at::Tensor shared_activation(const DecoderLayerWeights& weights, const at::Tensor& flat, const LinearInputHook* hook) {
  if (!weights.layout->has(LinearRole::SharedDown)) return {};
  const at::Tensor activated = expert_activation(weights.shared_experts, flat);
  notify_linear_input(hook, {weights.layout->linear_of(LinearRole::SharedDown)}, activated);
  return activated;
}

// Sigmoid scores, chosen with the correction bias among the best groups (DeepseekV3TopkRouter).
ExpertRouting route_by_grouped_sigmoid(const MoeConfig& moe, const at::Tensor& logits, const at::Tensor& bias) {
  const at::Tensor scores = at::sigmoid(logits.to(at::kFloat));             // [tokens, E]
  at::Tensor choice = bias.defined() ? scores + bias.to(scores.device()) : scores;  // [tokens, E]
  const int64_t group_size = moe.num_experts / moe.n_group;
  const at::Tensor group_scores =
      std::get<0>(choice.view({-1, moe.n_group, group_size}).topk(2, -1)).sum(-1);  // [tokens, G]
  const at::Tensor best_groups = std::get<1>(group_scores.topk(moe.topk_group, -1));  // [tokens, topk_group]
  const at::Tensor group_mask = at::zeros_like(group_scores).scatter_(1, best_groups, 1.0);
  const at::Tensor expert_mask =
      group_mask.unsqueeze(-1).expand({-1, moe.n_group, group_size}).reshape({-1, moe.num_experts});
  choice = choice.masked_fill(expert_mask == 0, -std::numeric_limits<float>::infinity());
  const at::Tensor experts = std::get<1>(choice.topk(moe.top_k, -1));  // [tokens, k]
  at::Tensor weights = scores.gather(1, experts);                      // [tokens, k]
  if (moe.norm_topk_prob) weights = weights / (weights.sum(-1, /*keepdim=*/true) + 1e-20);
  weights = weights * moe.routed_scaling_factor;
  return {weights.contiguous(), experts.contiguous()};
}

}  // namespace

ExpertRouting route_tokens(const MoeConfig& moe, const at::Tensor& router_logits, const at::Tensor& correction_bias) {
  TORCH_CHECK(router_logits.dim() == 2 && router_logits.size(1) == moe.num_experts, "router logits must be [tokens, ",
              moe.num_experts, "], got ", router_logits.sizes());
  if (moe.scoring == RouterScoring::Sigmoid) return route_by_grouped_sigmoid(moe, router_logits, correction_bias);
  const at::Tensor probabilities = at::softmax(router_logits.to(at::kFloat), -1);  // [tokens, E]
  auto [top_values, top_indices] = at::topk(probabilities, moe.top_k, -1);          // [tokens, k]
  if (moe.norm_topk_prob) top_values = top_values / top_values.sum(-1, /*keepdim=*/true);
  return {top_values.contiguous(), top_indices.contiguous()};
}

at::Tensor sparse_moe_forward(const ModelConfig& config, const DecoderLayerWeights& weights, const at::Tensor& normed,
                              const LinearInputHook* hook) {
  const int64_t hidden = config.hidden_size;
  const at::Tensor flat = normed.reshape({-1, hidden});  // [tokens, hidden]
  const ExpertRouting routing = route(config, weights, flat, hook);
  const auto names = hook ? expert_names(*weights.layout) : std::vector<ExpertNames>{};
  const auto routed = tokens_per_expert(routing, config.moe->num_experts);
  at::Tensor output = at::zeros_like(flat);  // [tokens, hidden]
  for (size_t e = 0; e < routed.size(); ++e) {
    if (!routed[e].tokens.defined()) continue;
    const at::Tensor x = flat.index_select(0, routed[e].tokens);  // [n_e, hidden]
    if (hook) notify_linear_input(hook, names[e].gate_up, x);
    const at::Tensor activated = expert_activation(weights.experts[e], x);  // [n_e, I_e]
    if (hook) notify_linear_input(hook, names[e].down, activated);
    const at::Tensor y = linear_forward(weights.experts[e].down_proj, activated);  // [n_e, hidden]
    output.index_add_(0, routed[e].tokens, y * routed[e].weights.unsqueeze(1));
  }
  if (const at::Tensor shared = shared_activation(weights, flat, hook); shared.defined()) {
    output = output + linear_forward(weights.shared_experts.down_proj, shared);  // [tokens, hidden]
  }
  return output.reshape(normed.sizes());
}

void sparse_moe_observe_inputs(const ModelConfig& config, const DecoderLayerWeights& weights,
                               const at::Tensor& normed, const LinearInputHook& hook,
                               const ExpertCalibration& calibration) {
  const at::Tensor flat = normed.reshape({-1, config.hidden_size}).contiguous();  // [tokens, hidden]
  const ExpertRouting routing = route(config, weights, flat, &hook);
  if (calibration.on_routing) calibration.on_routing(routing.experts);
  const auto names = expert_names(*weights.layout);
  if (calibration.all_experts) {
    // Every expert's gate/up reads what the router read (observed above, once); each
    // expert's down projection reads its own activation of every token.
    for (size_t e = 0; e < names.size(); ++e) {
      notify_linear_input(&hook, names[e].down, expert_activation(weights.experts[e], flat));
    }
    shared_activation(weights, flat, &hook);
    return;
  }
  const auto routed = tokens_per_expert(routing, config.moe->num_experts);
  for (size_t e = 0; e < routed.size(); ++e) {
    if (!routed[e].tokens.defined()) continue;
    const at::Tensor x = flat.index_select(0, routed[e].tokens);  // [n_e, hidden]
    notify_linear_input(&hook, names[e].gate_up, x);
    notify_linear_input(&hook, names[e].down, expert_activation(weights.experts[e], x));
  }
  shared_activation(weights, flat, &hook);
}

}  // namespace dcomp::model
