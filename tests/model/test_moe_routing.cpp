// The sparse MLP against a brute-force reference: every expert run on every token, the
// softmax probabilities computed in fp64 per token and the top-k picked by sorting, the
// outputs summed with the (renormalised) weights. Also what a calibration hook sees.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <map>
#include <memory>
#include <numeric>
#include <vector>

#include "kernels/model/sparse_moe.hpp"

namespace dcomp::model {
namespace {

ModelConfig routing_test_config(bool norm_topk_prob) {
  ModelConfig config;
  config.architecture = Architecture::Qwen3Moe;
  config.hidden_size = 24;
  config.num_hidden_layers = 1;
  config.num_attention_heads = 2;
  config.num_key_value_heads = 2;
  config.head_dim = 12;
  config.moe = MoeConfig{6, 3, 10, norm_topk_prob, 1, {}};
  return config;
}

DecoderLayerWeights random_moe_layer(const ModelConfig& config, uint64_t seed) {
  at::manual_seed(seed);
  DecoderLayerWeights weights;
  weights.layout = std::make_shared<const LayerLayout>(decoder_layer_layout(config, 0));
  weights.router.weight = at::randn({config.moe->num_experts, config.hidden_size});
  for (int64_t e = 0; e < config.moe->num_experts; ++e) {
    const int64_t i = config.moe->expert_intermediate_size, h = config.hidden_size;
    weights.experts.push_back({{at::randn({i, h}) / 5}, {at::randn({i, h}) / 5}, {at::randn({h, i}) / 4}});
  }
  return weights;
}

// The reference: per token, in fp64.
at::Tensor brute_force_mixture(const ModelConfig& config, const DecoderLayerWeights& weights, const at::Tensor& x) {
  const at::Tensor x64 = x.to(at::kDouble);
  at::Tensor out = at::zeros_like(x64);
  const int64_t k = config.moe->top_k, experts = config.moe->num_experts;
  for (int64_t t = 0; t < x.size(0); ++t) {
    const at::Tensor logits = at::mv(weights.router.weight.to(at::kDouble), x64[t]);
    std::vector<double> p(experts);
    double total = 0;
    for (int64_t e = 0; e < experts; ++e) total += (p[e] = std::exp(logits[e].item<double>()));
    for (auto& value : p) value /= total;
    std::vector<int64_t> order(experts);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
    double kept = 0;
    for (int64_t j = 0; j < k; ++j) kept += p[order[j]];
    for (int64_t j = 0; j < k; ++j) {
      const auto& expert = weights.experts[order[j]];
      const at::Tensor gate = at::mv(expert.gate_proj.weight.to(at::kDouble), x64[t]);
      const at::Tensor up = at::mv(expert.up_proj.weight.to(at::kDouble), x64[t]);
      const at::Tensor y = at::mv(expert.down_proj.weight.to(at::kDouble), at::silu(gate) * up);
      out[t] += y * (config.moe->norm_topk_prob ? p[order[j]] / kept : p[order[j]]);
    }
  }
  return out;
}

TEST(SparseMoe, MatchesTheBruteForceMixtureWithAndWithoutRenormalisation) {
  for (const bool norm : {true, false}) {
    const ModelConfig config = routing_test_config(norm);
    const DecoderLayerWeights weights = random_moe_layer(config, 7);
    const at::Tensor x = at::randn({2, 9, config.hidden_size});
    const at::Tensor y = sparse_moe_forward(config, weights, x);
    ASSERT_EQ(y.sizes(), x.sizes());
    const at::Tensor expected = brute_force_mixture(config, weights, x.reshape({-1, config.hidden_size}));
    EXPECT_LT((y.reshape({-1, config.hidden_size}).to(at::kDouble) - expected).abs().max().item<double>(), 1e-5)
        << "norm_topk_prob " << norm;
  }
}

TEST(SparseMoe, CalibrationHookSeesRoutedOrAllTokensPerExpert) {
  const ModelConfig config = routing_test_config(true);
  const DecoderLayerWeights weights = random_moe_layer(config, 11);
  const at::Tensor x = at::randn({3, 5, config.hidden_size});  // 15 tokens
  for (const bool all : {false, true}) {
    std::map<std::string, int64_t> rows;
    const LinearInputHook hook = [&](const std::vector<std::string>& names, const at::Tensor& input) {
      rows[names.front()] += input.size(0);
    };
    ExpertCalibration calibration;
    calibration.all_experts = all;
    at::Tensor chosen;
    calibration.on_routing = [&](const at::Tensor& experts) { chosen = experts.clone(); };
    sparse_moe_observe_inputs(config, weights, x, hook, calibration);
    ASSERT_TRUE(chosen.defined());
    EXPECT_EQ(chosen.sizes(), (std::vector<int64_t>{15, 3}));
    EXPECT_EQ(rows.at("mlp.gate"), 15);
    int64_t routed = 0;
    for (int64_t e = 0; e < 6; ++e) {
      const std::string gate = "mlp.experts." + std::to_string(e) + ".gate_proj";
      const std::string down = "mlp.experts." + std::to_string(e) + ".down_proj";
      const int64_t picked = (chosen == e).sum().item<int64_t>();
      // With every token through every expert, the experts' gate/up read the router's input,
      // which the hook saw once under the router's name.
      EXPECT_EQ(rows[gate], all ? 0 : picked) << e;
      EXPECT_EQ(rows[down], all ? 15 : picked) << e;
      routed += picked;
    }
    EXPECT_EQ(routed, 15 * 3);
  }
}

}  // namespace
}  // namespace dcomp::model
