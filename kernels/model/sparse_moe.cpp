// reference: transformers/models/qwen3_moe/modeling_qwen3_moe.py (Qwen3MoeTopKRouter.forward,
// Qwen3MoeExperts.forward), transformers/models/mixtral/modeling_mixtral.py (same, always
// renormalised); llm-compressor modeling/moe/linear_experts.py (calibrate_all_experts).
#include "kernels/model/sparse_moe.hpp"

#include <ATen/ATen.h>

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
  notify_linear_input(hook, {weights.layout->router()}, flat);
  const at::Tensor logits = linear_forward(weights.router, flat);  // [tokens, E] fp32
  return route_tokens(*config.moe, logits);
}

}  // namespace

ExpertRouting route_tokens(const MoeConfig& moe, const at::Tensor& router_logits) {
  TORCH_CHECK(router_logits.dim() == 2 && router_logits.size(1) == moe.num_experts, "router logits must be [tokens, ",
              moe.num_experts, "], got ", router_logits.sizes());
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
    return;
  }
  const auto routed = tokens_per_expert(routing, config.moe->num_experts);
  for (size_t e = 0; e < routed.size(); ++e) {
    if (!routed[e].tokens.defined()) continue;
    const at::Tensor x = flat.index_select(0, routed[e].tokens);  // [n_e, hidden]
    notify_linear_input(&hook, names[e].gate_up, x);
    notify_linear_input(&hook, names[e].down, expert_activation(weights.experts[e], x));
  }
}

}  // namespace dcomp::model
