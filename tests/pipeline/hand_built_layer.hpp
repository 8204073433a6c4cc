// One dense Llama-shaped decoder layer handed to a single modifier as the sequential pipeline
// would hand it (lifecycle::LayerWork at SEQUENTIAL_EPOCH_END), built here field by field from
// random fp32 weights and random calibration activations, with the input statistics computed
// in the test from those activations. The modifier is built from recipe arguments and driven
// through its public lifecycle calls only: initialize (kwargs "plan"), then one
// SEQUENTIAL_EPOCH_END event (kwargs "layer").
#pragma once

#include <ATen/ATen.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "kernels/comm/communicator.hpp"
#include "kernels/model/layer_layout.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/rotary_embedding.hpp"
#include "lifecycle/event.hpp"
#include "lifecycle/layer_work.hpp"
#include "lifecycle/modifier.hpp"
#include "lifecycle/modifier_args.hpp"
#include "lifecycle/modifier_registry.hpp"
#include "lifecycle/state.hpp"
#include "model/random_layer.hpp"
#include "pipeline/llama_model_handle.hpp"

namespace dcomp::pipeline::layer_step_testing {

constexpr int kLayerIndex = 0;
constexpr int64_t kSamples = 4;            // calibration sequences
constexpr int64_t kTokensPerSample = 32;   // tokens per sequence
constexpr int64_t kTokens = kSamples * kTokensPerSample;

/// hidden 32, 4 heads of 8 over 2 KV heads (q: [32, 32], k/v: [16, 32], o: [32, 32]),
/// intermediate 64 (gate/up: [64, 32], down: [32, 64]), one decoder layer.
inline model::ModelConfig tiny_llama_config() {
  return model::testing::tiny_config("LlamaForCausalLM",
                                     {{"hidden_size", 32}, {"intermediate_size", 64}, {"num_hidden_layers", 1}});
}

/// "model.layers.0." + a name relative to the layer.
inline std::string full_name(const std::string& relative) { return layer_module_name(kLayerIndex, relative); }

/// x / rms(x) · g over the last dimension, in fp64: x [tokens, hidden], g [hidden].
// reference: transformers LlamaRMSNorm (hidden * rsqrt(mean(hidden²) + eps) * weight)
inline at::Tensor reference_rms_norm(const at::Tensor& x, const at::Tensor& g, double eps) {
  const at::Tensor x64 = x.to(at::kDouble);
  return x64 * at::rsqrt(x64.pow(2).mean(-1, /*keepdim=*/true) + eps) * g.to(at::kDouble);
}

/// Per-channel spread (log-normal, a few channels 8× larger: activation outliers) and a
/// random mixing of the channels (correlated inputs, where GPTQ and SparseGPT beat rounding).
inline at::Tensor random_activations(int64_t tokens, int64_t channels) {
  const at::Tensor mixing = at::eye(channels, at::kFloat) + 0.5 * at::randn({channels, channels}) / std::sqrt(channels);
  at::Tensor spread = at::exp(0.5 * at::randn({channels}));
  spread.narrow(0, 0, 2).mul_(8.0);
  return at::mm(at::randn({tokens, channels}), mixing) * spread;  // [tokens, channels] fp32
}

/// The layer, its calibration activations and the original weights, before any modifier ran.
struct HandBuiltLayer {
  model::ModelConfig config = tiny_llama_config();
  model::RotaryEmbedding rope{config};
  std::shared_ptr<const model::LayerLayout> layout =
      std::make_shared<const model::LayerLayout>(model::decoder_layer_layout(config, kLayerIndex));
  std::unique_ptr<comm::Communicator> comm = comm::make_single_communicator();
  /// Hidden states entering each norm, [kTokens, hidden] fp32, by full norm module name.
  std::map<std::string, at::Tensor> norm_inputs;
  /// X of every distinct Linear input, [kTokens, in] fp32, by full input key.
  std::map<std::string, at::Tensor> activations;
  /// Every Linear's weight [out, in] fp32 and every layer tensor, by full name, as built.
  std::map<std::string, at::Tensor> original_weights;
  std::map<std::string, at::Tensor> original_norms;  // full norm module name → [hidden] fp32
  std::map<std::string, at::Tensor> other_parameters;

  HandBuiltLayer() {
    const std::vector<std::string> norms = layout->smoothable_norms();
    for (const auto& parameter : layout->parameters) {
      at::Tensor value = 1 + 0.2 * at::randn(parameter.shape, at::kFloat);  // [hidden] fp32, around 1
      if (std::find(norms.begin(), norms.end(), parameter.module()) != norms.end()) {
        original_norms[full_name(parameter.module())] = value;
      } else {
        other_parameters[full_name(parameter.name)] = value;
      }
    }
    for (const auto& linear : layout->linears) {
      original_weights[full_name(linear.name)] =
          at::randn({linear.out_features, linear.in_features}, at::kFloat) / std::sqrt(linear.in_features);
    }
    for (const auto& input : layout->inputs) {
      const std::string key = full_name(input.key);
      if (original_norms.count(key)) {  // the norm's output: rms_norm of hidden states with outliers
        norm_inputs[key] = random_activations(kTokens, input.in_features);
        activations[key] =
            reference_rms_norm(norm_inputs[key], original_norms[key], config.rms_norm_eps).to(at::kFloat);
      } else {
        activations[key] = random_activations(kTokens, input.in_features);
      }
    }
  }

  /// The statistics `plan` asks for, of the input `key`, from its activations: Hessian sum
  /// Σ 2·xᵀx accumulated in fp64 (stored fp32, [in, in]); channel min/max fp32 [in]; Σ|x| fp64 [in].
  lifecycle::InputStatistics statistics_of(const std::string& key, const model::LayerInput& input,
                                           const lifecycle::CompressionPlan& plan) const {
    const at::Tensor x = activations.at(key);
    lifecycle::InputStatistics stats;
    for (const auto& reader : input.linears) stats.consumers.push_back(full_name(reader));
    stats.num_samples = kSamples;
    stats.num_tokens = kTokens;
    if (plan.needs_hessians) {
      const at::Tensor x64 = x.to(at::kDouble);
      stats.hessian_sum = (2.0 * at::mm(x64.t(), x64)).to(at::kFloat);
    }
    if (plan.needs_channel_ranges) {
      stats.channel_min = std::get<0>(x.min(0));
      stats.channel_max = std::get<0>(x.max(0));
    }
    if (plan.needs_channel_abs_sums) stats.channel_abs_sum = x.to(at::kDouble).abs().sum(0);
    if (plan.needs_cached_inputs) stats.cached = {x.clone()};
    return stats;
  }

  /// The LayerWork the sequential pipeline fills for this layer (make_layer_work, then the
  /// config, rope, model dtype, single communicator, host solve loop and the statistics the
  /// plan asked for); every tensor a copy, so the originals stay as built.
  std::shared_ptr<lifecycle::LayerWork> layer_work(const lifecycle::CompressionPlan& plan) const {
    auto work = std::make_shared<lifecycle::LayerWork>();
    work->layer_index = kLayerIndex;
    work->model_dtype = at::kFloat;
    work->layout = layout;
    work->config = &config;
    work->rope = &rope;
    work->comm = comm.get();
    for (const auto& input : layout->inputs) {
      for (const auto& reader : input.linears) {
        lifecycle::LinearModule module;
        module.name = full_name(reader);
        module.weight = original_weights.at(module.name).clone();
        module.input = full_name(input.key);
        work->linears.push_back(std::move(module));
      }
      work->inputs[full_name(input.key)] = statistics_of(full_name(input.key), input, plan);
    }
    // Model order (the layout's), as make_layer_work lists them.
    std::vector<lifecycle::LinearModule> ordered;
    for (const auto& relative : layout->linear_names()) ordered.push_back(*work->find(full_name(relative)));
    work->linears = std::move(ordered);
    if (plan.needs_cached_inputs) work->batch_shapes = {{kSamples, kTokensPerSample}};
    for (const auto& [name, value] : original_norms) work->norm_weights[name] = value.clone();
    for (const auto& [name, value] : other_parameters) work->parameters[name] = value.clone();
    return work;
  }
};

/// A modifier built from one recipe entry, `class_name: <args>` (a YAML flow mapping), and
/// run on one layer: initialize with a fresh plan and the model, then SEQUENTIAL_EPOCH_END.
class SingleModifierStep {
 public:
  SingleModifierStep(const std::string& class_name, const std::string& args, const HandBuiltLayer& layer)
      : layer_(layer) {
    lifecycle::ModifierArgs parsed(YAML::Load(args), "recipe.yaml", class_name);
    modifier_ = lifecycle::ModifierRegistry::builtin().create(class_name, parsed);
    state_.model = std::make_shared<LlamaModelHandle>(layer.config);
    state_.hardware.device = "cpu";
    state_.hardware.distributed_strategy = layer.comm->backend_name();
    modifier_->initialize(state_, {{"model", state_.model}, {"hardware", state_.hardware}, {"plan", plan_}});
  }

  const lifecycle::CompressionPlan& plan() const { return *plan_; }

  /// The layer work as the plan asks, after the modifier's SEQUENTIAL_EPOCH_END (whose
  /// report, what update_event returned, is kept: last_report()).
  std::shared_ptr<lifecycle::LayerWork> run() {
    std::shared_ptr<lifecycle::LayerWork> work = layer_.layer_work(*plan_);
    lifecycle::Event event;
    event.type = lifecycle::EventType::SEQUENTIAL_EPOCH_END;
    event.global_step = 0;
    last_report_ = modifier_->update_event(state_, event, {{"layer", work}});
    return work;
  }

  const lifecycle::ModifierResult& last_report() const { return last_report_; }

 private:
  const HandBuiltLayer& layer_;
  lifecycle::ModifierPtr modifier_;
  lifecycle::State state_;
  std::shared_ptr<lifecycle::CompressionPlan> plan_ = std::make_shared<lifecycle::CompressionPlan>();
  lifecycle::ModifierResult last_report_;
};

/// ‖(W − Ŵ)Xᵀ‖²_F in fp64, straight from the activations: W, Ŵ [out, in], X [tokens, in].
inline double output_error(const at::Tensor& original, const at::Tensor& compressed, const at::Tensor& x) {
  const at::Tensor delta = (original - compressed).to(at::kDouble);
  return at::mm(x.to(at::kDouble), delta.t()).pow(2).sum().item<double>();
}

}  // namespace dcomp::pipeline::layer_step_testing
