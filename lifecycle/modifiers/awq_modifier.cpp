// reference: llm-compressor src/llmcompressor/modifiers/transform/awq/base.py (_set_resolved_mappings,
// _apply_smoothing, _compute_best_scale, _compute_loss) and mappings.py (default_mappings).
#include "lifecycle/modifiers/awq_modifier.hpp"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "kernels/model/attention.hpp"
#include "kernels/model/linear.hpp"
#include "kernels/model/mlp.hpp"
#include "kernels/quant/observers.hpp"
#include "kernels/quant/qparams.hpp"
#include "lifecycle/enclosing_modules.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/layer_work.hpp"
#include "lifecycle/modifier_args.hpp"
#include "kernels/model/architecture_description.hpp"
#include "lifecycle/modifiers/fused_global_scales.hpp"
#include "lifecycle/modifiers/mapping_matches.hpp"
#include "lifecycle/modifiers/quantization_mixin.hpp"
#include "lifecycle/modifiers/stored_precision.hpp"
#include "lifecycle/target_match.hpp"
#include "kernels/io/layer_names.hpp"

namespace dcomp::lifecycle {
namespace {

// Which module a mapping's search runs: the lowest module holding every balance Linear.
enum class Parent { Attention, OutputProjection, Mlp, DownProjection };

// The architecture's default mappings (model::ArchitectureDescription); a recipe without a
// model to read (a lifecycle run on its own) gets Llama's.
std::vector<AWQModifier::Mapping> default_mappings(const model::ArchitectureDescription& architecture) {
  std::vector<AWQModifier::Mapping> mappings;
  for (const auto& mapping : architecture.awq_mappings) mappings.push_back({mapping.smooth, mapping.balance, ""});
  return mappings;
}

std::string leaf(const std::string& name) { return name.substr(name.rfind('.') + 1); }

// The kind of parent the balance Linears form, from their leaf names (sorted).
std::optional<Parent> parent_of(std::vector<std::string> leaves) {
  std::sort(leaves.begin(), leaves.end());
  if (leaves == std::vector<std::string>{"k_proj", "q_proj", "v_proj"}) return Parent::Attention;
  if (leaves == std::vector<std::string>{"o_proj"}) return Parent::OutputProjection;
  if (leaves == std::vector<std::string>{"gate_proj", "up_proj"}) return Parent::Mlp;
  if (leaves == std::vector<std::string>{"down_proj"}) return Parent::DownProjection;
  return std::nullopt;
}

// The layer's weights as the model code takes them, with `replaced` (name → weight) in place.
model::DecoderLayerWeights layer_weights(const LayerWork& layer, const std::map<std::string, at::Tensor>& replaced) {
  model::DecoderLayerWeights weights;
  weights.layout = layer.layout;
  const std::string prefix = io::layer_prefix(layer.layer_index);
  for (const auto& relative : layer.layout->linear_names()) {
    const LinearModule* module = layer.find(prefix + relative);
    const auto found = replaced.find(prefix + relative);
    weights.linear(relative) = {found != replaced.end() ? found->second : module->weight, module->bias, nullptr};
  }
  for (const auto& parameter : layer.layout->parameters) {  // the norms as smoothed so far, q/k norms
    const std::string name = prefix + parameter.name;
    const auto norm = layer.norm_weights.find(prefix + parameter.module());
    weights.parameters[parameter.name] = norm != layer.norm_weights.end() ? norm->second : layer.parameters.at(name);
  }
  return weights;
}

// The parent's output for every cached batch: [tokens, out] fp32 each.
std::vector<at::Tensor> run_parent(const LayerWork& layer, Parent parent, const std::vector<at::Tensor>& inputs,
                                   const std::map<std::string, at::Tensor>& replaced) {
  const model::DecoderLayerWeights weights = layer_weights(layer, replaced);
  std::vector<at::Tensor> outputs;
  for (size_t b = 0; b < inputs.size(); ++b) {
    const at::Tensor& x = inputs[b];  // [tokens, in]
    switch (parent) {
      case Parent::Attention: {
        const auto [batch, seq] = layer.batch_shapes.at(b);
        const at::Tensor out = model::self_attention_forward(*layer.config, weights, x.view({batch, seq, -1}), *layer.rope);
        outputs.push_back(out.reshape({batch * seq, -1}));
        break;
      }
      case Parent::OutputProjection: outputs.push_back(model::linear_forward(weights.o_proj, x)); break;
      case Parent::Mlp: outputs.push_back(model::swiglu_mlp_forward(weights, x)); break;
      case Parent::DownProjection: outputs.push_back(model::linear_forward(weights.down_proj, x)); break;
    }
  }
  return outputs;
}

// Mean squared error over every element of every batch, summed over ranks.
double parent_error(const std::vector<at::Tensor>& reference, const std::vector<at::Tensor>& outputs,
                    comm::Communicator* comm) {
  at::Tensor totals = at::zeros({2}, at::kDouble);  // [Σ squared error, elements]
  for (size_t b = 0; b < reference.size(); ++b) {
    totals[0] += (reference[b] - outputs[b]).square().sum(at::kDouble);
    totals[1] += static_cast<double>(reference[b].numel());
  }
  if (comm && comm->world_size() > 1) comm->all_reduce(totals, comm::ReduceOp::Sum);
  return totals[0].item<double>() / std::max(totals[1].item<double>(), 1.0);
}

}  // namespace

AWQModifier::AWQModifier(ModifierArgs& args) : Modifier("AWQModifier") {
  location_ = args.location();
  YAML::Node mappings = args.raw("mappings");
  if (mappings && !mappings.IsNull()) {
    explicit_mappings_ = true;
    if (!mappings.IsSequence()) args.fail("mappings", "must be a list of {smooth_layer, balance_layers}");
    for (const auto& entry : mappings) {
      if (!entry.IsMap() || !entry["smooth_layer"] || !entry["smooth_layer"].IsScalar() || !entry["balance_layers"]) {
        throw RecipeError(yaml_location(args.source(), entry) +
                          ": AWQModifier mapping must have smooth_layer and balance_layers");
      }
      if (entry["activation_hook_target"] && !entry["activation_hook_target"].IsNull()) {
        throw RecipeError(yaml_location(args.source(), entry) +
                          ": AWQModifier mapping: activation_hook_target (parallel transformer blocks) is not "
                          "supported; dcomp's Llama-family layers read each mapping's input where upstream does");
      }
      Mapping mapping{entry["smooth_layer"].as<std::string>(), {}, yaml_location(args.source(), entry)};
      const YAML::Node balance = entry["balance_layers"];
      if (balance.IsScalar()) mapping.balance.push_back(balance.as<std::string>());
      if (balance.IsSequence()) {
        for (const auto& name : balance) {
          if (!name.IsScalar()) {
            throw RecipeError(yaml_location(args.source(), name) + ": AWQModifier balance_layers must be names or "
                              "\"re:\" patterns");
          }
          mapping.balance.push_back(name.as<std::string>());
        }
      }
      if (mapping.balance.empty()) {
        throw RecipeError(yaml_location(args.source(), entry) + ": AWQModifier mapping has no balance_layers");
      }
      mappings_.push_back(std::move(mapping));
    }
  } else {
    mappings_ = default_mappings(model::describe(model::Architecture::Llama));
  }
  YAML::Node duo = args.raw("duo_scaling");
  if (duo && !duo.IsNull()) {
    if (!duo.IsScalar()) args.fail("duo_scaling", "must be true, false or \"both\"");
    const std::string text = duo.as<std::string>();
    if (text == "true" || text == "True") duo_scaling_ = DuoScaling::On;
    else if (text == "false" || text == "False") duo_scaling_ = DuoScaling::Off;
    else if (text == "both") duo_scaling_ = DuoScaling::Both;
    else args.fail("duo_scaling", "must be true, false or \"both\", not '" + text + "'");
  }
  n_grid_ = args.get<int>("n_grid", 20);
  const int smallest = duo_scaling_ == DuoScaling::Both ? 4 : duo_scaling_ == DuoScaling::On ? 3 : 2;
  if (n_grid_ < smallest) {
    args.fail("n_grid", "must be at least " + std::to_string(smallest) + " for this duo_scaling, got " +
                            std::to_string(n_grid_));
  }
  // Each grid point is a forward pass over the layer's calibration inputs per mapping.
  if (n_grid_ > kMaxGridPoints) {
    args.fail("n_grid", "must be at most " + std::to_string(kMaxGridPoints) + " (llm-compressor's default is 20), got " +
                            std::to_string(n_grid_));
  }
  args.optional<std::string>("offload_device");  // accepted as upstream; cached inputs live in host memory
  // The older form (modifiers/awq/__init__.py): quantization arguments make it quantize too.
  if (args.has("scheme") || args.has("config_groups")) quantizer_ = std::make_shared<QuantizationModifier>(args);
  requires_calibration_data = true;
}

nlohmann::json AWQModifier::own_args() const {
  nlohmann::json out = {{"duo_scaling", duo_scaling_ == DuoScaling::Both ? nlohmann::json("both")
                                                                           : nlohmann::json(duo_scaling_ == DuoScaling::On)},
                        {"n_grid", n_grid_}};
  if (explicit_mappings_) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : mappings_) list.push_back({{"smooth_layer", m.smooth}, {"balance_layers", m.balance}});
    out["mappings"] = list;
  }
  if (quantizer_) out.update(quantizer_->serialize_args());
  return out;
}

bool AWQModifier::on_initialize_plan(State& state, const Kwargs& kwargs, const std::shared_ptr<CompressionPlan>& plan) {
  if (state.model) {
    // The grid search replays each mapping's parent (grouped-query attention, a dense MLP) on the
    // cached inputs; the routed experts of a sparse MLP are not such a parent here.
    const model::ArchitectureDescription* architecture = model::find_architecture(state.model->architecture());
    if (architecture && !architecture->awq_supported) throw RecipeError(location_ + ": " + architecture->awq_refusal);
    if (!explicit_mappings_ && (!architecture || architecture->awq_mappings.empty())) {
      throw RecipeError(location_ + ": AWQModifier: " +
                        (architecture ? architecture->awq_refusal
                                      : "no default mappings for " + state.model->architecture() + "; give 'mappings'"));
    }
    if (!explicit_mappings_) mappings_ = default_mappings(*architecture);
  }
  if (state.model && explicit_mappings_) check_mappings(*state.model);
  if (plan) {
    plan->needs_channel_abs_sums = true;
    plan->needs_cached_inputs = true;
    plan_ = plan;
  }
  if (quantizer_) quantizer_->initialize(state, kwargs);
  return true;
}

void AWQModifier::on_event(State& state, const Event& event, const Kwargs& kwargs) {
  if (event.type == EventType::SEQUENTIAL_EPOCH_END) {
    // Before the embedded quantizer's own SEQUENTIAL_EPOCH_END below.
    if (LayerWork* layer = layer_of(kwargs)) smooth_layer(*layer);
  }
  if (quantizer_) {
    if (auto result = quantizer_->update_event(state, event, kwargs)) report("quantization", *result);
  }
}

bool AWQModifier::on_finalize(State& state, const Kwargs& kwargs) {
  if (quantizer_) quantizer_->finalize(state, kwargs);
  return true;
}

void AWQModifier::check_mappings(const ModelHandle& model) const {
  for (const auto& mapping : mappings_) {
    const MappingMatches matches = match_mapping(model, mapping.smooth, mapping.balance, true);
    require_mapping_matches(matches, mapping.location, "AWQModifier", mapping.smooth, mapping.balance, true);
    // The balance Linears of each decoder layer, by leaf name ("model.layers.3." → {q_proj, ...}).
    std::map<std::string, std::vector<std::string>> leaves_by_layer;
    for (const auto& name : matches.balance) {
      const size_t layer_end = name.find('.', io::kDecoderLayersPrefix.size());
      leaves_by_layer[name.substr(0, layer_end + 1)].push_back(leaf(name));
    }
    for (const auto& [layer, leaves] : leaves_by_layer) {
      if (!parent_of(leaves)) {
        throw RecipeError(mapping.location + ": AWQModifier mapping " + describe_mapping(mapping.smooth, mapping.balance) +
                          ": in " + layer.substr(0, layer.size() - 1) + " it selects the balance layers " +
                          nlohmann::json(leaves).dump() + "; dcomp searches the Llama-family mappings (q/k/v, "
                          "o_proj, gate/up or down_proj as balance layers)");
      }
    }
  }
}

namespace {

// One mapping found in a layer: the smooth layer (a norm, or a Linear whose output rows the
// balance Linears read) and the balance Linears, each with the arguments its weights will be
// quantized with (none for a Linear no quantizing modifier targets).
struct ResolvedMapping {
  std::string smooth;
  LinearModule* smooth_linear = nullptr;
  std::vector<LinearModule*> balance;
  std::vector<std::string> leaves;
  std::vector<std::optional<quant::QuantizationArgs>> args;
  std::vector<at::Tensor> originals;  // the balance Linears' weights before smoothing
};

ResolvedMapping resolve_mapping(LayerWork& layer, const AWQModifier::Mapping& mapping) {
  ResolvedMapping found;
  for (const auto& [name, weight] : layer.norm_weights) {
    if (target_matches({name, {"RMSNorm"}, 0, 0}, mapping.smooth)) found.smooth = name;
  }
  for (auto& module : layer.linears) {
    if (found.smooth.empty() && target_matches(linear_module_info(module), mapping.smooth)) {
      found.smooth = module.name;
      found.smooth_linear = &module;
    }
  }
  for (auto& module : layer.linears) {
    if (any_target_matches(linear_module_info(module), mapping.balance)) {
      found.balance.push_back(&module);
      found.leaves.push_back(leaf(module.name));
    }
  }
  return found;
}

// The best scales of the grid: for each candidate, Q(W·s)/s for every quantized balance Linear
// (with the global scales fused Linears share) replayed through the parent, against its output
// with the original weights.
struct AwqSearch {
  AwqCandidate candidate;
  at::Tensor scales;  // [in] fp32
  double initial_error = -1.0;
  double best_error = std::numeric_limits<double>::infinity();
};

AwqSearch search_scales(const LayerWork& layer, Parent parent, const ResolvedMapping& mapping,
                        const InputStatistics& input, const at::Tensor& x_mean, const at::Tensor& w_mean,
                        DuoScaling duo_scaling, int n_grid) {
  const std::vector<LinearModule*>& balance = mapping.balance;
  const auto& args = mapping.args;
  const std::vector<at::Tensor> reference = run_parent(layer, parent, input.cached, {});
  AwqSearch best;
  for (const AwqCandidate& candidate : awq_grid(duo_scaling, n_grid)) {
    const at::Tensor scales = awq_candidate_scales(x_mean, w_mean, candidate);  // [in]
    const at::Tensor row = scales.view({1, -1});
    std::vector<LinearModule> scaled;
    std::vector<LinearModule*> scaled_pointers;
    for (size_t i = 0; i < balance.size(); ++i) {
      if (!args[i]) continue;
      scaled.push_back({balance[i]->name, as_stored_in(layer.model_dtype, (mapping.originals[i] * row).to(at::kFloat)),
                        {}, balance[i]->input, {}});
    }
    for (auto& module : scaled) scaled_pointers.push_back(&module);
    const auto global_scales =
        fused_weight_global_scales(layer, scaled_pointers, [&](const LinearModule& module) -> const quant::QuantizationArgs* {
          for (size_t i = 0; i < balance.size(); ++i) {
            if (balance[i]->name == module.name && args[i]) return &*args[i];
          }
          return nullptr;
        });
    std::map<std::string, at::Tensor> replaced;
    for (size_t i = 0, k = 0; i < balance.size(); ++i) {
      if (!args[i]) continue;
      const at::Tensor& w = scaled[k++].weight;
      const auto global = global_scales.find(balance[i]->name);
      const quant::QParams qparams =
          quant::observe_weight(w, *args[i], {}, global == global_scales.end() ? at::Tensor() : global->second);
      replaced[balance[i]->name] =
          as_stored_in(layer.model_dtype, (quant::fake_quantize(w, qparams, *args[i]) / row).to(at::kFloat));
    }
    const double error = parent_error(reference, run_parent(layer, parent, input.cached, replaced), layer.comm);
    if (best.initial_error < 0) best.initial_error = error;
    if (error < best.best_error) {
      best.best_error = error;
      best.candidate = candidate;
      best.scales = scales;
    }
  }
  return best;
}

// The scales folded in: balance weights ·s, the smooth layer /s (its output rows for a Linear),
// each rounded to the model dtype as the model stores it.
void fold_scales(LayerWork& layer, const ResolvedMapping& mapping, const at::Tensor& scales) {
  const at::Tensor row = scales.view({1, -1});
  for (size_t i = 0; i < mapping.balance.size(); ++i) {
    mapping.balance[i]->weight = as_stored_in(layer.model_dtype, (mapping.originals[i] * row).to(at::kFloat));
  }
  if (LinearModule* smooth = mapping.smooth_linear) {
    at::Tensor weight = smooth->weight.clone();
    const int64_t n = scales.size(0);
    weight.narrow(0, weight.size(0) - n, n).copy_(weight.narrow(0, weight.size(0) - n, n) / scales.view({-1, 1}));
    smooth->weight = as_stored_in(layer.model_dtype, weight);
    if (smooth->bias.defined()) smooth->bias = as_stored_in(layer.model_dtype, (smooth->bias / scales).to(at::kFloat));
  } else {
    layer.norm_weights[mapping.smooth] =
        as_stored_in(layer.model_dtype, (layer.norm_weights[mapping.smooth] / scales).to(at::kFloat));
  }
}

// The balance layers now read x / s: what later modifiers read about that input is rescaled.
void rescale_input_statistics(InputStatistics& input, const at::Tensor& scales) {
  const at::Tensor inverse = scales.reciprocal().to(at::kFloat);
  if (input.hessian_sum.defined()) input.hessian_sum = input.hessian_sum * inverse.unsqueeze(0) * inverse.unsqueeze(1);
  if (input.channel_min.defined()) {
    input.channel_min = input.channel_min * inverse;
    input.channel_max = input.channel_max * inverse;
  }
  input.channel_abs_sum = input.channel_abs_sum * inverse.to(at::kDouble);
  for (auto& x : input.cached) x = x * inverse;
}

}  // namespace

void AWQModifier::smooth_layer(LayerWork& layer) {
  const std::string prefix = io::layer_prefix(layer.layer_index);
  if (!layer.layout) return;  // the subgraph holding lm_head
  if (!layer.config || !layer.rope) throw LifecycleError("AWQModifier: the pipeline gave no model context");
  // The schemes the quantizing modifiers declared (the search quantizes as they will).
  QuantizationMixin schemes;
  if (plan_) schemes.adopt(*plan_);
  const auto weight_args_of = [&](const LinearModule& module) -> std::optional<quant::QuantizationArgs> {
    auto scheme = schemes.scheme_for(linear_module_info(module));
    if (!scheme || !scheme->weights) return std::nullopt;
    quant::QuantizationArgs args = *scheme->weights;
    args.observer = "memoryless_minmax";  // upstream patches every weight observer for the search
    args.model_dtype = quant::float_dtype_of(layer.model_dtype);
    args.actorder = quant::ActOrder::None;
    args.actorder_literal.clear();
    return args;
  };
  nlohmann::json applied = nlohmann::json::array();
  for (const auto& entry : mappings_) {
    ResolvedMapping mapping = resolve_mapping(layer, entry);
    if (mapping.smooth.empty() || mapping.balance.empty()) continue;
    const auto parent = parent_of(mapping.leaves);
    if (!parent) {
      throw LifecycleError(location_ + ": AWQModifier mapping " + entry.smooth + " → " + mapping.balance.front()->name +
                           "...: dcomp searches the Llama-family mappings (q/k/v, o_proj, gate/up, down_proj as "
                           "balance layers); this set of balance layers is not one of them");
    }
    // Under grouped-query attention v_proj's outputs are not o_proj's inputs: skipped as upstream.
    if (*parent == Parent::OutputProjection && mapping.smooth_linear &&
        mapping.smooth_linear->weight.size(0) != mapping.balance[0]->weight.size(1)) {
      continue;
    }
    std::vector<at::Tensor> targeted_weights;
    std::vector<quant::QuantizationArgs> mean_args;
    for (LinearModule* module : mapping.balance) {
      mapping.args.push_back(weight_args_of(*module));
      mapping.originals.push_back(module->weight);
      if (!mapping.args.back()) continue;
      targeted_weights.push_back(module->weight);
      mean_args.push_back(*mapping.args.back());
      if (duo_scaling_ != DuoScaling::Off && mapping.args.back()->resolved_strategy() == quant::Strategy::Tensor) {
        throw RecipeError(location_ + ": AWQModifier: duo_scaling needs per-channel or group quantization, but " +
                          module->name + " uses the tensor strategy; set duo_scaling: false");
      }
    }
    if (targeted_weights.empty()) {
      spdlog::warn("AWQModifier: skipping {}: none of its balance layers is quantized", mapping.smooth);
      continue;
    }
    InputStatistics& input = layer.input_of(*mapping.balance.front());
    if (!input.channel_abs_sum.defined() || input.num_tokens == 0) {
      throw LifecycleError("AWQModifier: no activation statistics were collected for " + mapping.smooth);
    }
    const at::Tensor x_mean = (input.channel_abs_sum / static_cast<double>(input.num_tokens)).to(at::kFloat);  // [in]
    const at::Tensor w_mean =
        duo_scaling_ != DuoScaling::Off ? awq_weight_means(targeted_weights, mean_args) : at::Tensor();
    const AwqSearch best = search_scales(layer, *parent, mapping, input, x_mean, w_mean, duo_scaling_, n_grid_);
    if (!best.scales.defined()) {
      throw LifecycleError("AWQModifier: no finite error in the grid search for " + mapping.smooth +
                           " (NaN in the layer's forward pass?)");
    }
    fold_scales(layer, mapping, best.scales);
    rescale_input_statistics(input, best.scales);
    applied.push_back({{"smooth", mapping.smooth},
                       {"ratio", best.candidate.ratio},
                       {"duo_scaling", best.candidate.duo},
                       {"initial_error", best.initial_error},
                       {"best_error", best.best_error}});
    spdlog::debug("layer {}: AWQ {} ratio {} (duo {}), error {:.4g} → {:.4g}", layer.layer_index, mapping.smooth,
                  best.candidate.ratio, best.candidate.duo, best.initial_error, best.best_error);
  }
  // The cached inputs are not needed after this layer's search.
  for (auto& [key, input] : layer.inputs) input.cached.clear();
  report("layer", layer.layer_index);
  report("smoothed", applied);
}

}  // namespace dcomp::lifecycle
