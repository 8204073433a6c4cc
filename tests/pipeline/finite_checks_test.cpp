// The run's refusals of NaN and infinity: one value planted in a weight, a bias, a norm, a
// layer parameter, an input statistic, a key/value range, the embedding or a scale, and the
// full message expected, written out by hand (the tensor, the count, the first bad index and
// value, the consequence). The same layer with every value finite passes.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "kernels/quant/non_finite.hpp"
#include "pipeline/finite_checks.hpp"
#include "pipeline/hand_built_layer.hpp"

namespace dcomp::pipeline {
namespace {

using layer_step_testing::HandBuiltLayer;

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

/// The hand-built Llama layer's work (hidden 32, intermediate 64, fp32) with Hessian sums,
/// channel ranges and Σ|x| of all four inputs, and key/value ranges of 4 samples.
std::shared_ptr<lifecycle::LayerWork> finite_layer_work(const HandBuiltLayer& layer) {
  lifecycle::CompressionPlan plan;
  plan.needs_hessians = true;
  plan.needs_channel_ranges = true;
  plan.needs_channel_abs_sums = true;
  auto work = layer.layer_work(plan);
  work->key_value_ranges = {
      {-1.f, -2.f, -3.f, -4.f}, {1.f, 2.f, 3.f, 4.f}, {-.5f, -.5f, -.5f, -.5f}, {.5f, .5f, .5f, .5f}};
  return work;
}

void expect_refused_with(const std::function<void()>& check, const std::string& message) {
  try {
    check();
    ADD_FAILURE() << "accepted; expected: " << message;
  } catch (const quant::NonFiniteError& error) {
    EXPECT_EQ(std::string(error.what()), message);
  }
}

TEST(FiniteChecks, AFiniteLayerPassesEveryCheck) {
  const HandBuiltLayer layer;
  const auto work = finite_layer_work(layer);
  EXPECT_NO_THROW(require_finite_weights(*work));
  EXPECT_NO_THROW(require_finite_statistics(*work));
}

TEST(FiniteChecks, AWeightNamesTheLinearTheCountAndTheFirstBadIndex) {
  const HandBuiltLayer layer;
  const auto work = finite_layer_work(layer);
  at::Tensor weight = work->find("model.layers.0.mlp.down_proj")->weight;  // [32, 64] fp32
  weight[20][3] = kNaN;
  weight[5][17] = kInf;  // first in row-major order
  expect_refused_with([&] { require_finite_weights(*work); },
                      "model.layers.0.mlp.down_proj: weight holds 2 non-finite values (first at [5, 17]: inf); "
                      "refusing to compress");
}

TEST(FiniteChecks, ABiasIsCheckedToo) {
  const HandBuiltLayer layer;
  const auto work = finite_layer_work(layer);
  lifecycle::LinearModule& q = *work->find("model.layers.0.self_attn.q_proj");
  q.bias = at::zeros({32});
  q.bias[2] = -kInf;
  expect_refused_with([&] { require_finite_weights(*work); },
                      "model.layers.0.self_attn.q_proj: bias holds 1 non-finite value (at [2]: -inf); "
                      "refusing to compress");
}

TEST(FiniteChecks, ANormWeightNamesTheNorm) {
  const HandBuiltLayer layer;
  const auto work = finite_layer_work(layer);
  work->norm_weights.at("model.layers.0.post_attention_layernorm")[7] = kNaN;  // [32] fp32
  expect_refused_with([&] { require_finite_weights(*work); },
                      "model.layers.0.post_attention_layernorm: weight holds 1 non-finite value (at [7]: nan); "
                      "refusing to compress");
}

TEST(FiniteChecks, ALayerParameterNamesItsModuleAndTensor) {
  const HandBuiltLayer layer;
  const auto work = finite_layer_work(layer);
  at::Tensor q_norm = at::ones({8});  // Qwen3's per-head q_norm [head_dim] fp32
  q_norm[3] = kNaN;
  work->parameters["model.layers.0.self_attn.q_norm.weight"] = q_norm;
  expect_refused_with([&] { require_finite_weights(*work); },
                      "model.layers.0.self_attn.q_norm: weight holds 1 non-finite value (at [3]: nan); "
                      "refusing to compress");
}

TEST(FiniteChecks, AHessianNamesTheLinearsReadingTheInput) {
  const HandBuiltLayer layer;
  const auto work = finite_layer_work(layer);
  work->inputs.at("model.layers.0.input_layernorm").hessian_sum[1][2] = kInf;  // [32, 32] fp32
  expect_refused_with([&] { require_finite_statistics(*work); },
                      "model.layers.0.self_attn.q_proj (and 2 more Linear(s) reading the same input): the Hessian of "
                      "the inputs holds 1 non-finite value (at [1, 2]: inf); the calibration activations overflow; "
                      "refusing to compress");
}

TEST(FiniteChecks, ChannelRangesAndMagnitudesAreChecked) {
  const HandBuiltLayer layer;
  {
    const auto work = finite_layer_work(layer);
    work->inputs.at("model.layers.0.mlp.down_proj").channel_max[10] = kNaN;  // [64] fp32
    expect_refused_with([&] { require_finite_statistics(*work); },
                        "model.layers.0.mlp.down_proj: the observed input maximum per channel holds 1 non-finite "
                        "value (at [10]: nan); the calibration activations overflow; refusing to compress");
  }
  {
    const auto work = finite_layer_work(layer);
    work->inputs.at("model.layers.0.self_attn.o_proj").channel_min[0] = -kInf;  // [32] fp32
    expect_refused_with([&] { require_finite_statistics(*work); },
                        "model.layers.0.self_attn.o_proj: the observed input minimum per channel holds 1 non-finite "
                        "value (at [0]: -inf); the calibration activations overflow; refusing to compress");
  }
  {
    const auto work = finite_layer_work(layer);
    work->inputs.at("model.layers.0.post_attention_layernorm").channel_abs_sum[31] = kInf;  // [32] fp64
    expect_refused_with([&] { require_finite_statistics(*work); },
                        "model.layers.0.mlp.gate_proj (and 1 more Linear(s) reading the same input): the observed "
                        "input magnitude per channel holds 1 non-finite value (at [31]: inf); the calibration "
                        "activations overflow; refusing to compress");
  }
}

TEST(FiniteChecks, TheFirstBadInputInModelOrderIsNamed) {
  // o_proj's input comes before post_attention_layernorm's in the layer (not in key order).
  const HandBuiltLayer layer;
  const auto work = finite_layer_work(layer);
  work->inputs.at("model.layers.0.post_attention_layernorm").hessian_sum[0][0] = kNaN;
  work->inputs.at("model.layers.0.self_attn.o_proj").hessian_sum[0][0] = kNaN;
  try {
    require_finite_statistics(*work);
    ADD_FAILURE() << "accepted";
  } catch (const quant::NonFiniteError& error) {
    EXPECT_EQ(std::string(error.what()).rfind("model.layers.0.self_attn.o_proj: the Hessian", 0), 0u) << error.what();
  }
}

TEST(FiniteChecks, AnInputWithNoTokensKeepsItsOpenRanges) {
  // Nothing observed (an expert no token reached): min +inf, max −inf, not an overflow.
  const HandBuiltLayer layer;
  const auto work = finite_layer_work(layer);
  lifecycle::InputStatistics& input = work->inputs.at("model.layers.0.mlp.down_proj");
  input.num_tokens = 0;
  input.channel_min.fill_(kInf);
  input.channel_max.fill_(-kInf);
  EXPECT_NO_THROW(require_finite_statistics(*work));
}

TEST(FiniteChecks, KeyAndValueRangesNameTheAttentionAndTheSample) {
  const HandBuiltLayer layer;
  {
    const auto work = finite_layer_work(layer);
    work->key_value_ranges.key_max[1] = kInf;
    expect_refused_with([&] { require_finite_statistics(*work); },
                        "model.layers.0.self_attn: the observed key maximum per sample holds 1 non-finite value "
                        "(at [1]: inf); the calibration activations overflow; refusing to compress");
  }
  {
    const auto work = finite_layer_work(layer);
    work->key_value_ranges.value_min[3] = kNaN;
    expect_refused_with([&] { require_finite_statistics(*work); },
                        "model.layers.0.self_attn: the observed value minimum per sample holds 1 non-finite value "
                        "(at [3]: nan); the calibration activations overflow; refusing to compress");
  }
}

TEST(FiniteChecks, EmbeddingNormAndAnUntiedHead) {
  // embed_tokens / lm_head [50, 16] fp32, final norm [16] fp32.
  model::EmbeddingAndHeadWeights weights{at::randn({50, 16}), at::ones({16}), at::randn({50, 16}), {}};
  EXPECT_NO_THROW(require_finite_weights(weights, /*tied=*/false));
  weights.lm_head[49][15] = kNaN;
  EXPECT_NO_THROW(require_finite_weights(weights, /*tied=*/true));  // a tied head is the embedding
  expect_refused_with([&] { require_finite_weights(weights, false); },
                      "lm_head: weight holds 1 non-finite value (at [49, 15]: nan); refusing to compress");
  weights.final_norm[0] = kInf;
  expect_refused_with([&] { require_finite_weights(weights, true); },
                      "model.norm: weight holds 1 non-finite value (at [0]: inf); refusing to compress");
  weights.embed_tokens[3][4] = -kInf;
  expect_refused_with([&] { require_finite_weights(weights, true); },
                      "model.embed_tokens: weight holds 1 non-finite value (at [3, 4]: -inf); refusing to compress");
}

TEST(FiniteChecks, ScalesOfACompressedLinearAreChecked) {
  lifecycle::LinearModule module;
  module.name = "model.layers.2.mlp.up_proj";
  module.weight = at::randn({8, 16});
  EXPECT_NO_THROW(require_finite_scales(module));  // left dense
  quant::CompressedWeight compressed;
  compressed.scale = at::ones({8, 1});  // per channel, fp32
  compressed.scale[6][0] = kNaN;
  module.compressed = compressed;
  EXPECT_NO_THROW(require_finite_scales(module));  // no weight quantization (e.g. pruned only)
  module.compressed->weight_args = quant::QuantizationArgs{};
  expect_refused_with([&] { require_finite_scales(module); },
                      "model.layers.2.mlp.up_proj.weight_scale holds 1 non-finite value (at [6, 0]: nan); "
                      "refusing to write a checkpoint holding it");
  module.compressed->scale = at::ones({8, 1});
  module.compressed->input_scale = at::full({1}, kInf);
  expect_refused_with([&] { require_finite_scales(module); },
                      "model.layers.2.mlp.up_proj.input_scale holds 1 non-finite value (at [0]: inf); "
                      "refusing to write a checkpoint holding it");
}

}  // namespace
}  // namespace dcomp::pipeline
