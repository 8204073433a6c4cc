// The statistics gathered of a decoder layer's distinct Linear inputs through the
// calibration hook (Hessian sums Σ 2·xᵀx in fp64, per-channel min / max / Σ|x|, sample and
// token counts), driven as the sequential pipeline drives them: the layer's calibration pass
// per batch, end_chunk per chunk, all_reduce over the ranks, fill into the layer's work.
// Every expected value is a brute-force sum over the inputs, one token at a time; in sparse
// layers, over the tokens a brute-force top-k of the router's logits sends to each expert.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <memory>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kernels/model/decoder_layer.hpp"
#include "kernels/model/rotary_embedding.hpp"
#include "kernels/model/sparse_moe.hpp"
#include "model/random_layer.hpp"
#include "pipeline/brute_force_statistics.hpp"
#include "pipeline/layer_statistics.hpp"
#include "pipeline/llama_model_handle.hpp"
#include "pipeline/threaded_ranks.hpp"

namespace dcomp::pipeline {
namespace {

using testing::brute_force_statistics;
using testing::BruteForceStatistics;
using testing::relative_difference;

constexpr int kLayer = 0;

/// A tiny Llama layer (hidden 16, q/o 16×16, k/v 8×16, gate/up 24×16, down 16×24, fp32) and
/// calibration hidden states in three chunks: {[2, 5, 16], [1, 7, 16]}, {[3, 4, 16]}, {[1, 6, 16]}.
struct DenseCalibration {
  model::ModelConfig config = model::testing::tiny_config("LlamaForCausalLM");
  model::DecoderLayerWeights weights;
  model::RotaryEmbedding rope{config};
  std::vector<std::vector<at::Tensor>> chunks;
  std::vector<int64_t> samples_per_chunk{3, 3, 1};

  DenseCalibration() {
    at::manual_seed(11);
    weights = model::testing::random_layer(config);
    const int64_t h = config.hidden_size;
    chunks = {{at::randn({2, 5, h}), at::randn({1, 7, h})}, {at::randn({3, 4, h})}, {at::randn({1, 6, h})}};
  }

  const model::LayerLayout& layout() const { return *weights.layout; }
  int64_t total_samples() const { return 7; }
  int64_t total_tokens() const { return 2 * 5 + 7 + 3 * 4 + 6; }

  /// The chunks [first, first + count) through the layer's calibration pass into `statistics`;
  /// with `seen`, every input the hook passes is also kept there (a copy, by full input key).
  void observe(LayerStatistics& statistics, size_t first, size_t count,
               std::map<std::string, std::vector<at::Tensor>>* seen = nullptr) const {
    const model::LinearInputHook inner = statistics.hook();
    const model::LinearInputHook recording = [&](const std::vector<std::string>& names, const at::Tensor& x) {
      (*seen)[layer_module_name(kLayer, layout().input_of(names.front()).key)].push_back(x.clone());
      inner(names, x);
    };
    for (size_t c = first; c < first + count; ++c) {
      for (const at::Tensor& batch : chunks[c]) {
        model::decoder_layer_observe_inputs(config, weights, batch, rope, seen ? recording : inner);
      }
      statistics.end_chunk(samples_per_chunk[c]);
    }
  }
};

/// Statistics of every kind the plan can ask for: Hessians, ranges, Σ|x|, cached inputs.
LayerStatistics all_kinds_of_statistics(const model::LayerLayout& layout) {
  LayerStatistics statistics(kLayer, layout, /*hessians=*/true, /*channel_ranges=*/true);
  statistics.collect_activation_sums_and_inputs(/*abs_sums=*/true, /*cache_inputs=*/true);
  return statistics;
}

void expect_statistics_match(const lifecycle::InputStatistics& actual, const BruteForceStatistics& expected,
                             const std::string& key) {
  ASSERT_TRUE(actual.hessian_sum.defined()) << key;
  EXPECT_EQ(actual.hessian_sum.scalar_type(), at::kFloat) << key;
  EXPECT_LT(relative_difference(actual.hessian_sum, expected.hessian_sum), 1e-5) << key;
  EXPECT_TRUE(at::equal(actual.channel_min, expected.channel_min)) << key;
  EXPECT_TRUE(at::equal(actual.channel_max, expected.channel_max)) << key;
  EXPECT_LT(relative_difference(actual.channel_abs_sum, expected.channel_abs_sum), 1e-12) << key;
  EXPECT_EQ(actual.num_tokens, expected.tokens) << key;
}

TEST(LayerStatistics, DenseInputsMatchBruteForceSumsOverTheObservedActivations) {
  const DenseCalibration run;
  LayerStatistics statistics = all_kinds_of_statistics(run.layout());
  std::map<std::string, std::vector<at::Tensor>> seen;
  run.observe(statistics, 0, run.chunks.size(), &seen);
  lifecycle::LayerWork work;
  statistics.fill(work);

  const std::map<std::string, std::pair<std::vector<std::string>, int64_t>> expected_inputs{
      {"model.layers.0.input_layernorm",
       {{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj"}, 16}},
      {"model.layers.0.self_attn.o_proj", {{"model.layers.0.self_attn.o_proj"}, 16}},
      {"model.layers.0.post_attention_layernorm", {{"model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj"}, 16}},
      {"model.layers.0.mlp.down_proj", {{"model.layers.0.mlp.down_proj"}, 24}}};
  ASSERT_EQ(work.inputs.size(), expected_inputs.size());
  for (const auto& [key, consumers_and_width] : expected_inputs) {
    ASSERT_TRUE(work.inputs.count(key)) << key;
    const lifecycle::InputStatistics& stats = work.inputs.at(key);
    EXPECT_EQ(stats.consumers, consumers_and_width.first) << key;
    EXPECT_EQ(stats.num_samples, run.total_samples()) << key;
    EXPECT_EQ(stats.num_tokens, run.total_tokens()) << key;
    expect_statistics_match(stats, brute_force_statistics(seen.at(key), consumers_and_width.second), key);
    ASSERT_EQ(stats.cached.size(), seen.at(key).size()) << key;  // one [tokens, in] fp32 per batch
    for (size_t b = 0; b < stats.cached.size(); ++b) EXPECT_TRUE(at::equal(stats.cached[b], seen.at(key)[b])) << key;
  }
}

// x / sqrt(mean(x²) + eps) · g per token, in fp64: hidden [..., 16] → [tokens, 16].
at::Tensor rms_normed_tokens(const at::Tensor& hidden, const at::Tensor& g, double eps) {
  const at::Tensor x = hidden.reshape({-1, hidden.size(-1)}).to(at::kDouble);
  return x / (x.pow(2).mean(-1, true) + eps).sqrt() * g.to(at::kDouble);
}

TEST(LayerStatistics, AttentionInputStatisticsAreThoseOfTheRmsNormedHiddenStates) {
  // Not what the hook saw, but the attention's input written out: rms_norm(hidden)·g.
  const DenseCalibration run;
  LayerStatistics statistics = all_kinds_of_statistics(run.layout());
  run.observe(statistics, 0, run.chunks.size());
  lifecycle::LayerWork work;
  statistics.fill(work);
  std::vector<at::Tensor> normed;
  for (const auto& chunk : run.chunks) {
    for (const at::Tensor& batch : chunk) {
      normed.push_back(rms_normed_tokens(batch, run.weights.parameter("input_layernorm.weight"),
                                         run.config.rms_norm_eps));
    }
  }
  const BruteForceStatistics expected = brute_force_statistics(normed, run.config.hidden_size);
  const lifecycle::InputStatistics& actual = work.inputs.at("model.layers.0.input_layernorm");
  EXPECT_LT(relative_difference(actual.hessian_sum, expected.hessian_sum), 1e-5);
  EXPECT_LT(relative_difference(actual.channel_min, expected.channel_min), 1e-5);
  EXPECT_LT(relative_difference(actual.channel_max, expected.channel_max), 1e-5);
  EXPECT_LT(relative_difference(actual.channel_abs_sum, expected.channel_abs_sum), 1e-5);
  EXPECT_EQ(actual.num_tokens, run.total_tokens());
}

TEST(LayerStatistics, ChunksSumToTheStatisticsOfOneChunkHoldingEveryBatch) {
  const DenseCalibration run;
  LayerStatistics chunked = all_kinds_of_statistics(run.layout());
  run.observe(chunked, 0, run.chunks.size());
  LayerStatistics whole = all_kinds_of_statistics(run.layout());
  for (const auto& chunk : run.chunks) {
    for (const at::Tensor& batch : chunk) {
      model::decoder_layer_observe_inputs(run.config, run.weights, batch, run.rope, whole.hook());
    }
  }
  whole.end_chunk(run.total_samples());
  lifecycle::LayerWork by_chunk, at_once;
  chunked.fill(by_chunk);
  whole.fill(at_once);
  ASSERT_EQ(by_chunk.inputs.size(), at_once.inputs.size());
  for (const auto& [key, expected] : at_once.inputs) {
    const lifecycle::InputStatistics& actual = by_chunk.inputs.at(key);
    EXPECT_EQ(actual.num_samples, expected.num_samples) << key;
    EXPECT_EQ(actual.num_tokens, expected.num_tokens) << key;
    EXPECT_LT(relative_difference(actual.hessian_sum, expected.hessian_sum), 1e-6) << key;
    EXPECT_TRUE(at::equal(actual.channel_min, expected.channel_min)) << key;
    EXPECT_TRUE(at::equal(actual.channel_max, expected.channel_max)) << key;
    EXPECT_LT(relative_difference(actual.channel_abs_sum, expected.channel_abs_sum), 1e-12) << key;
  }
}

/// Holds every submitted Hessian job until drain(), then runs it as sum += 2·tokensᵀ·tokens
/// in fp64 (its own formula, not the statistics' GEMM).
class DeferredHessianQueue final : public HessianQueue {
 public:
  void submit(at::Tensor sum64, at::Tensor tokens) override { jobs_.emplace_back(std::move(sum64), std::move(tokens)); }
  void drain() override {
    for (auto& [sum, tokens] : jobs_) {
      const at::Tensor x = tokens.to(at::kDouble);
      sum.add_(2.0 * at::mm(x.t(), x));
    }
    jobs_.clear();
  }
  size_t pending() const { return jobs_.size(); }

 private:
  std::vector<std::pair<at::Tensor, at::Tensor>> jobs_;
};

TEST(LayerStatistics, HessianJobsGoThroughTheQueueOncePerInputAndChunk) {
  const DenseCalibration run;
  LayerStatistics statistics(kLayer, run.layout(), /*hessians=*/true, /*channel_ranges=*/false);
  std::map<std::string, std::vector<at::Tensor>> seen;
  const model::LinearInputHook inner = statistics.hook();
  const model::LinearInputHook recording = [&](const std::vector<std::string>& names, const at::Tensor& x) {
    seen[layer_module_name(kLayer, run.layout().input_of(names.front()).key)].push_back(x.clone());
    inner(names, x);
  };
  DeferredHessianQueue queue;
  for (size_t c = 0; c < run.chunks.size(); ++c) {
    for (const at::Tensor& batch : run.chunks[c]) {
      model::decoder_layer_observe_inputs(run.config, run.weights, batch, run.rope, recording);
    }
    statistics.end_chunk(run.samples_per_chunk[c], &queue);
  }
  EXPECT_EQ(queue.pending(), 4 * run.chunks.size());  // 4 distinct inputs, one GEMM each per chunk
  queue.drain();
  lifecycle::LayerWork work;
  statistics.fill(work);
  for (const auto& [key, batches] : seen) {
    const lifecycle::InputStatistics& stats = work.inputs.at(key);
    EXPECT_LT(relative_difference(stats.hessian_sum, brute_force_statistics(batches, batches[0].size(1)).hessian_sum),
              1e-5)
        << key;
    EXPECT_FALSE(stats.channel_min.defined()) << key;  // not asked for
  }
}

TEST(LayerStatistics, TwoRanksSumToTheBruteForceTotalAndAgree) {
  // Rank 0 holds chunks 0 and 1, rank 1 chunk 2, as ranks hold contiguous runs of chunks.
  const DenseCalibration run;
  std::map<std::string, std::vector<at::Tensor>> all_seen;
  {
    LayerStatistics single = all_kinds_of_statistics(run.layout());
    run.observe(single, 0, run.chunks.size(), &all_seen);
  }
  std::vector<lifecycle::LayerWork> works(2);
  std::vector<int64_t> reduced_bytes(2);
  testing::run_ranks(2, [&](comm::Communicator& comm) {
    LayerStatistics statistics(kLayer, run.layout(), true, true);
    statistics.collect_activation_sums_and_inputs(/*abs_sums=*/true, /*cache_inputs=*/false);
    if (comm.rank() == 0) run.observe(statistics, 0, 2);
    if (comm.rank() == 1) run.observe(statistics, 2, 1);
    statistics.all_reduce(comm);
    reduced_bytes[static_cast<size_t>(comm.rank())] = statistics.reduced_bytes();
    statistics.fill(works[static_cast<size_t>(comm.rank())]);
  });
  for (const lifecycle::LayerWork& work : works) {
    for (const auto& [key, batches] : all_seen) {
      const lifecycle::InputStatistics& stats = work.inputs.at(key);
      expect_statistics_match(stats, brute_force_statistics(batches, batches[0].size(1)), key);
      EXPECT_EQ(stats.num_samples, run.total_samples()) << key;
    }
  }
  // Per input: 2 counts (16 B), Σ2xᵀx in² fp64, Σ|x| in fp64, min and max in fp32 each.
  const int64_t per_width_16 = 16 + 16 * 16 * 8 + 16 * 8 + 16 * 8;
  const int64_t per_width_24 = 16 + 24 * 24 * 8 + 24 * 8 + 24 * 8;
  EXPECT_EQ(reduced_bytes[0], 3 * per_width_16 + per_width_24);
  EXPECT_EQ(reduced_bytes[1], reduced_bytes[0]);
}

TEST(LayerStatistics, ARankWithoutSamplesLeavesTheOtherRanksStatisticsUnchanged) {
  const DenseCalibration run;
  std::map<std::string, std::vector<at::Tensor>> seen;
  std::vector<lifecycle::LayerWork> works(2);
  testing::run_ranks(2, [&](comm::Communicator& comm) {
    LayerStatistics statistics(kLayer, run.layout(), true, true);
    statistics.collect_activation_sums_and_inputs(/*abs_sums=*/true, /*cache_inputs=*/false);
    if (comm.rank() == 0) run.observe(statistics, 0, run.chunks.size(), &seen);
    statistics.all_reduce(comm);
    statistics.fill(works[static_cast<size_t>(comm.rank())]);
  });
  for (const lifecycle::LayerWork& work : works) {
    for (const auto& [key, batches] : seen) {
      expect_statistics_match(work.inputs.at(key), brute_force_statistics(batches, batches[0].size(1)), key);
    }
  }
}

TEST(LayerStatistics, InputsReducedToAnOwnerHaveTheirHessianOnlyThere) {
  const DenseCalibration run;
  const std::string owned = "model.layers.0.post_attention_layernorm";
  std::map<std::string, std::vector<at::Tensor>> seen;
  std::vector<lifecycle::LayerWork> works(2);
  std::vector<int64_t> owner_bytes(2);
  testing::run_ranks(2, [&](comm::Communicator& comm) {
    LayerStatistics statistics(kLayer, run.layout(), /*hessians=*/true, /*channel_ranges=*/false);
    statistics.reduce_to_owners({{owned, 1}});
    if (comm.rank() == 0) run.observe(statistics, 0, 2, &seen);
    if (comm.rank() == 1) run.observe(statistics, 2, 1);
    statistics.all_reduce(comm);
    owner_bytes[static_cast<size_t>(comm.rank())] = statistics.owner_reduced_bytes();
    statistics.fill(works[static_cast<size_t>(comm.rank())]);
  });
  EXPECT_FALSE(works[0].inputs.at(owned).hessian_sum.defined());
  ASSERT_TRUE(works[1].inputs.at(owned).hessian_sum.defined());
  EXPECT_EQ(works[0].inputs.at(owned).num_tokens, run.total_tokens());  // the counts are still all-reduced
  for (const lifecycle::LayerWork& work : works) {
    EXPECT_EQ(work.input_owner, (std::map<std::string, int>{{owned, 1}}));
    EXPECT_TRUE(work.inputs.at("model.layers.0.input_layernorm").hessian_sum.defined());
  }
  // Rank 0 saw chunks 0-1; add chunk 2's inputs as rank 1 saw them for the full reference.
  LayerStatistics rest(kLayer, run.layout(), false, false);
  run.observe(rest, 2, 1, &seen);
  const at::Tensor expected = brute_force_statistics(seen.at(owned), 16).hessian_sum;
  EXPECT_LT(relative_difference(works[1].inputs.at(owned).hessian_sum, expected), 1e-5);
  EXPECT_EQ(owner_bytes[0], 16 * 16 * 8);
  EXPECT_EQ(owner_bytes[1], 16 * 16 * 8);
}

TEST(LayerStatistics, ExplicitInputsObserveOnlyTheListedKeys) {
  // lm_head's input: model.norm's output [tokens, hidden 16] fp32.
  const model::ModelConfig config = model::testing::tiny_config("LlamaForCausalLM");
  LayerStatistics statistics(static_cast<int>(config.num_hidden_layers), lm_head_inputs(config), true, true);
  const at::Tensor first = at::randn({5, 16}), second = at::randn({3, 16});
  statistics.observe_input("model.norm", first);
  statistics.observe_input("model.layers.0.input_layernorm", at::randn({4, 16}));  // not listed: ignored
  statistics.observe_input("model.norm", second);
  statistics.end_chunk(2);
  lifecycle::LayerWork work;
  statistics.fill(work);
  ASSERT_EQ(work.inputs.size(), 1u);
  const lifecycle::InputStatistics& stats = work.inputs.at("model.norm");
  EXPECT_EQ(stats.consumers, std::vector<std::string>{"lm_head"});
  EXPECT_EQ(stats.num_samples, 2);
  const BruteForceStatistics expected = brute_force_statistics({first, second}, 16);
  EXPECT_LT(relative_difference(stats.hessian_sum, expected.hessian_sum), 1e-5);
  EXPECT_TRUE(at::equal(stats.channel_min, expected.channel_min));
  EXPECT_TRUE(at::equal(stats.channel_max, expected.channel_max));
  EXPECT_EQ(stats.num_tokens, 8);
  EXPECT_FALSE(stats.channel_abs_sum.defined());  // not asked for
}

TEST(LayerStatistics, NothingObservedLeavesZeroSumsAndOpenRanges) {
  const model::ModelConfig config = model::testing::tiny_config("LlamaForCausalLM");
  const model::LayerLayout layout = model::decoder_layer_layout(config, 1);
  LayerStatistics statistics(1, layout, true, true);
  statistics.end_chunk(0);
  lifecycle::LayerWork work;
  statistics.fill(work);
  ASSERT_EQ(work.inputs.size(), 4u);
  const lifecycle::InputStatistics& stats = work.inputs.at("model.layers.1.mlp.down_proj");
  EXPECT_EQ(stats.hessian_sum.sizes(), (std::vector<int64_t>{24, 24}));
  EXPECT_EQ(stats.hessian_sum.abs().max().item<float>(), 0.0f);
  EXPECT_EQ(stats.channel_min.min().item<float>(), std::numeric_limits<float>::infinity());
  EXPECT_EQ(stats.channel_max.max().item<float>(), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(stats.num_tokens, 0);
}

TEST(LayerStatistics, InputKeysNameTheModuleWhoseOutputTheLinearReads) {
  const model::ModelConfig config = model::testing::tiny_config("LlamaForCausalLM");
  const model::LayerLayout layout = model::decoder_layer_layout(config, 3);
  EXPECT_EQ(input_key(3, layout, "self_attn.k_proj"), "model.layers.3.input_layernorm");
  EXPECT_EQ(input_key(3, layout, "self_attn.o_proj"), "model.layers.3.self_attn.o_proj");
  EXPECT_EQ(input_key(3, layout, "mlp.up_proj"), "model.layers.3.post_attention_layernorm");
  EXPECT_EQ(input_key(3, layout, "mlp.down_proj"), "model.layers.3.mlp.down_proj");
}

TEST(LayerStatistics, AccumulateHessianAddsTwiceTheGramMatrixInDoublePrecision) {
  // sum64 [6, 6] fp64 starting at 1 everywhere, tokens [9, 6] fp32.
  at::Tensor sum64 = at::ones({6, 6}, at::kDouble);
  const at::Tensor tokens = at::randn({9, 6});
  accumulate_hessian(sum64, tokens);
  const BruteForceStatistics expected = brute_force_statistics({tokens}, 6);
  EXPECT_EQ(sum64.scalar_type(), at::kDouble);
  EXPECT_LT(relative_difference(sum64, expected.hessian_sum + 1.0), 1e-6);
}

TEST(LayerStatistics, MixtralInputsAreKeyedByTheirFirstReader) {
  // The mixtral fixture's config: hidden 64, 8 experts (w1 gate, w3 up, w2 down) per layer.
  const model::ModelConfig config =
      model::ModelConfig::from_dir(std::filesystem::path(DCOMP_SOURCE_DIR) / "tests/model/fixtures/mixtral");
  const model::LayerLayout layout = model::decoder_layer_layout(config, 1);
  EXPECT_EQ(input_key(1, layout, "block_sparse_moe.gate"), "model.layers.1.post_attention_layernorm");
  EXPECT_EQ(input_key(1, layout, "block_sparse_moe.experts.3.w3"), "model.layers.1.block_sparse_moe.experts.3.w1");
  EXPECT_EQ(input_key(1, layout, "block_sparse_moe.experts.3.w2"), "model.layers.1.block_sparse_moe.experts.3.w2");
  // Routed: q/k/v, o_proj, the router's, then per expert gate/up and down.
  const std::vector<StatisticsInput> routed = decoder_layer_inputs(1, layout, false);
  EXPECT_EQ(routed.size(), 2u + 1 + 2 * 8);
  // Every token through every expert: the experts' gate/up read the router's input.
  const std::vector<StatisticsInput> all = decoder_layer_inputs(1, layout, true);
  ASSERT_EQ(all.size(), 2u + 1 + 8);
  const StatisticsInput& router = all[2];
  EXPECT_EQ(router.key, "model.layers.1.post_attention_layernorm");
  EXPECT_EQ(router.in_features, 64);
  ASSERT_EQ(router.consumers.size(), 1u + 2 * 8);
  EXPECT_EQ(router.consumers[0], "model.layers.1.block_sparse_moe.gate");
  EXPECT_EQ(router.consumers[1], "model.layers.1.block_sparse_moe.experts.0.w1");
  EXPECT_EQ(router.consumers[2], "model.layers.1.block_sparse_moe.experts.0.w3");
  for (size_t i = 3; i < all.size(); ++i) {
    EXPECT_EQ(all[i].key, "model.layers.1.block_sparse_moe.experts." + std::to_string(i - 3) + ".w2");
    EXPECT_EQ(all[i].expert, static_cast<int>(i - 3));
  }
}

// ---- Sparse layers: the tokens the router sends to each expert ----

/// Qwen3-MoE-shaped sparse MLP: hidden 24, 6 experts of intermediate 10, top 3 renormalised;
/// router [6, 24], expert gate/up [10, 24], down [24, 10], all fp32.
model::ModelConfig sparse_config() {
  model::ModelConfig config;
  config.architecture = model::Architecture::Qwen3Moe;
  config.hidden_size = 24;
  config.num_hidden_layers = 1;
  config.num_attention_heads = 2;
  config.num_key_value_heads = 2;
  config.head_dim = 12;
  config.moe = model::MoeConfig{6, 3, 10, true, 1, {}};
  return config;
}

model::DecoderLayerWeights random_sparse_mlp(const model::ModelConfig& config) {
  model::DecoderLayerWeights weights;
  weights.layout = std::make_shared<const model::LayerLayout>(model::decoder_layer_layout(config, kLayer));
  weights.router.weight = at::randn({6, 24});
  for (int e = 0; e < 6; ++e) {
    weights.experts.push_back({{at::randn({10, 24}) / 5}, {at::randn({10, 24}) / 5}, {at::randn({24, 10}) / 4}});
  }
  return weights;
}

/// Per token of x [tokens, 24]: the 3 experts of highest router probability, in fp64.
std::vector<std::vector<int>> brute_force_routing(const model::DecoderLayerWeights& weights, const at::Tensor& x) {
  const at::Tensor logits = at::mm(x.to(at::kDouble), weights.router.weight.to(at::kDouble).t());  // [tokens, 6]
  std::vector<std::vector<int>> chosen;
  for (int64_t t = 0; t < logits.size(0); ++t) {
    std::vector<int> order{0, 1, 2, 3, 4, 5};
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return logits[t][a].item<double>() > logits[t][b].item<double>(); });
    chosen.emplace_back(order.begin(), order.begin() + 3);  // softmax keeps the logits' order
  }
  return chosen;
}

/// silu(gate·x) ⊙ (up·x) of one expert in fp64: x [tokens, 24] → [tokens, 10].
at::Tensor expert_down_input(const model::ExpertWeights& expert, const at::Tensor& x) {
  const at::Tensor x64 = x.to(at::kDouble);
  const at::Tensor gate = at::mm(x64, expert.gate_proj.weight.to(at::kDouble).t());
  const at::Tensor up = at::mm(x64, expert.up_proj.weight.to(at::kDouble).t());
  return gate / (1 + at::exp(-gate)) * up;
}

struct SparseCalibration {
  model::ModelConfig config = sparse_config();
  model::DecoderLayerWeights weights;
  std::vector<at::Tensor> normed;  // two batches of post_attention_layernorm output: [2, 9, 24], [1, 7, 24]
  SparseCalibration() {
    at::manual_seed(5);
    weights = random_sparse_mlp(config);
    normed = {at::randn({2, 9, 24}), at::randn({1, 7, 24})};
  }
  at::Tensor all_tokens() const { return at::cat({normed[0].reshape({-1, 24}), normed[1].reshape({-1, 24})}); }

  /// Each batch as its own chunk through the sparse MLP's calibration pass.
  lifecycle::LayerWork observe(bool all_experts) const {
    LayerStatistics statistics(kLayer, *weights.layout, true, true, c10::kCPU, all_experts);
    const model::ExpertCalibration& experts = statistics.expert_calibration();
    for (const at::Tensor& batch : normed) {
      model::sparse_moe_observe_inputs(config, weights, batch, statistics.hook(), experts);
      statistics.end_chunk(batch.size(0));
    }
    lifecycle::LayerWork work;
    statistics.fill(work);
    return work;
  }
};

std::string expert_module(int e, const char* linear) {
  return "model.layers.0.mlp.experts." + std::to_string(e) + "." + linear;
}

TEST(LayerStatistics, ExpertInputsHoldExactlyTheTokensRoutedToThem) {
  const SparseCalibration run;
  const lifecycle::LayerWork work = run.observe(/*all_experts=*/false);
  const at::Tensor x = run.all_tokens();  // [25, 24] fp32
  const std::vector<std::vector<int>> routing = brute_force_routing(run.weights, x);
  std::vector<int64_t> counts(6, 0);
  std::vector<std::vector<int64_t>> routed(6);  // token indices, ascending
  for (size_t t = 0; t < routing.size(); ++t) {
    for (int e : routing[t]) {
      ++counts[static_cast<size_t>(e)];
      routed[static_cast<size_t>(e)].push_back(static_cast<int64_t>(t));
    }
  }
  EXPECT_EQ(work.expert_tokens, counts);
  // The attention's two (not observed here), the router's, then gate/up and down per expert.
  EXPECT_EQ(work.inputs.size(), 2u + 1 + 2 * 6);
  EXPECT_EQ(work.inputs.at("model.layers.0.post_attention_layernorm").num_tokens, 25);
  for (int e = 0; e < 6; ++e) {
    const lifecycle::InputStatistics& gate_up = work.inputs.at(expert_module(e, "gate_proj"));
    const std::vector<std::string> pair{expert_module(e, "gate_proj"), expert_module(e, "up_proj")};
    EXPECT_EQ(gate_up.consumers, pair);
    EXPECT_EQ(gate_up.num_tokens, counts[static_cast<size_t>(e)]) << "expert " << e;
    if (routed[static_cast<size_t>(e)].empty()) continue;
    const at::Tensor rows = x.index_select(0, at::tensor(routed[static_cast<size_t>(e)], at::kLong));
    const BruteForceStatistics expected = brute_force_statistics({rows}, 24);
    EXPECT_LT(relative_difference(gate_up.hessian_sum, expected.hessian_sum), 1e-5) << "expert " << e;
    EXPECT_TRUE(at::equal(gate_up.channel_min, expected.channel_min)) << "expert " << e;
    const lifecycle::InputStatistics& down = work.inputs.at(expert_module(e, "down_proj"));
    const at::Tensor activated = expert_down_input(run.weights.experts[static_cast<size_t>(e)], rows);
    EXPECT_LT(relative_difference(down.hessian_sum, brute_force_statistics({activated}, 10).hessian_sum), 1e-5)
        << "expert " << e;
    EXPECT_EQ(down.num_tokens, counts[static_cast<size_t>(e)]) << "expert " << e;
  }
}

TEST(LayerStatistics, WithEveryTokenThroughEveryExpertTheExpertsShareTheRoutersInput) {
  const SparseCalibration run;
  const lifecycle::LayerWork work = run.observe(/*all_experts=*/true);
  const at::Tensor x = run.all_tokens();  // [25, 24] fp32
  std::vector<int64_t> counts(6, 0);
  for (const auto& chosen : brute_force_routing(run.weights, x)) {
    for (int e : chosen) ++counts[static_cast<size_t>(e)];
  }
  EXPECT_EQ(work.expert_tokens, counts);  // still the routing's counts
  std::vector<std::string> readers{"model.layers.0.mlp.gate"};
  for (int e = 0; e < 6; ++e) {
    readers.push_back(expert_module(e, "gate_proj"));
    readers.push_back(expert_module(e, "up_proj"));
    EXPECT_EQ(work.inputs.count(expert_module(e, "gate_proj")), 0u) << "expert " << e;
    const lifecycle::InputStatistics& down = work.inputs.at(expert_module(e, "down_proj"));
    EXPECT_EQ(down.num_tokens, 25) << "expert " << e;
    const at::Tensor activated = expert_down_input(run.weights.experts[static_cast<size_t>(e)], x);
    EXPECT_LT(relative_difference(down.hessian_sum, brute_force_statistics({activated}, 10).hessian_sum), 1e-5)
        << "expert " << e;
  }
  const lifecycle::InputStatistics& shared = work.inputs.at("model.layers.0.post_attention_layernorm");
  EXPECT_EQ(shared.consumers, readers);
  EXPECT_EQ(shared.num_tokens, 25);
  EXPECT_LT(relative_difference(shared.hessian_sum, brute_force_statistics({x}, 24).hessian_sum), 1e-5);
  EXPECT_EQ(calibration_input_key(kLayer, *run.weights.layout, "mlp.experts.2.up_proj", true),
            "model.layers.0.post_attention_layernorm");
  EXPECT_EQ(calibration_input_key(kLayer, *run.weights.layout, "mlp.experts.2.up_proj", false),
            expert_module(2, "gate_proj"));
}

}  // namespace
}  // namespace dcomp::pipeline
