// reference: llm-compressor modifiers/transform/smoothquant/base.py (_apply_smoothing)
#include "lifecycle/modifiers/smoothquant_modifier.hpp"

#include <algorithm>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "kernels/quant/non_finite.hpp"
#include "kernels/quant/smoothquant.hpp"
#include "lifecycle/enclosing_modules.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/layer_work.hpp"
#include "lifecycle/modifier_args.hpp"
#include "kernels/model/architecture_description.hpp"
#include "lifecycle/modifiers/mapping_matches.hpp"
#include "lifecycle/modifiers/stored_precision.hpp"
#include "lifecycle/target_match.hpp"

namespace dcomp::lifecycle {
namespace {

// The architecture's default mappings (model::ArchitectureDescription); a recipe without a
// model to read (a lifecycle run on its own) gets Llama's.
std::vector<SmoothQuantModifier::Mapping> default_mappings(const model::ArchitectureDescription& architecture) {
  std::vector<SmoothQuantModifier::Mapping> mappings;
  for (const auto& mapping : architecture.smoothquant_mappings) mappings.push_back({mapping.balance, mapping.smooth, ""});
  return mappings;
}

}  // namespace

SmoothQuantModifier::SmoothQuantModifier(ModifierArgs& args) : Modifier("SmoothQuantModifier") {
  smoothing_strength_ = args.get<double>("smoothing_strength", 0.5);
  if (!(smoothing_strength_ >= 0.0 && smoothing_strength_ <= 1.0)) {
    args.fail("smoothing_strength", "must be in [0, 1], got " + std::to_string(smoothing_strength_));
  }
  YAML::Node mappings = args.raw("mappings");
  if (mappings && !mappings.IsNull()) {
    explicit_mappings_ = true;
    if (!mappings.IsSequence()) args.fail("mappings", "must be a list of [[balance layers...], smooth layer]");
    for (const auto& entry : mappings) {
      if (!entry.IsSequence() || entry.size() != 2 || !entry[1].IsScalar()) {
        throw RecipeError(yaml_location(args.source(), entry) +
                          ": SmoothQuantModifier mapping must be [[balance layers...], smooth layer]");
      }
      Mapping mapping;
      if (entry[0].IsScalar()) {
        mapping.balance.push_back(entry[0].as<std::string>());
      } else {
        for (const auto& name : entry[0]) mapping.balance.push_back(name.as<std::string>());
      }
      mapping.smooth = entry[1].as<std::string>();
      mapping.location = yaml_location(args.source(), entry);
      mappings_.push_back(std::move(mapping));
    }
  } else {
    mappings_ = default_mappings(model::describe(model::Architecture::Llama));
  }
  if (auto ignore = args.string_list("ignore")) ignore_ = *ignore;
  if (auto algorithm = args.optional<std::string>("algorithm"); algorithm && *algorithm != "smoothquant") {
    args.fail("algorithm", "'" + *algorithm + "' is not supported (only 'smoothquant')");
  }
  args.optional<int>("num_calibration_steps");  // accepted as upstream; every calibration sample is used
  args.refuse("calibration_function", "(a Python callable) is not supported by dcomp");
  requires_calibration_data = true;
}

nlohmann::json SmoothQuantModifier::own_args() const {
  nlohmann::json out = {{"smoothing_strength", smoothing_strength_}};
  if (explicit_mappings_) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : mappings_) list.push_back(nlohmann::json::array({m.balance, m.smooth}));
    out["mappings"] = list;
  }
  if (!ignore_.empty()) out["ignore"] = ignore_;
  return out;
}

bool SmoothQuantModifier::on_initialize_plan(State& state, const Kwargs&, const std::shared_ptr<CompressionPlan>& plan) {
  if ((start && *start != -1.0) || (end && *end != -1.0)) {
    throw RecipeError("SmoothQuantModifier is one-shot only: start and end must be unset or -1");
  }
  if (state.model && !explicit_mappings_) {
    const model::ArchitectureDescription* architecture = model::find_architecture(state.model->architecture());
    if (!architecture || architecture->smoothquant_mappings.empty()) {
      throw RecipeError("SmoothQuantModifier: " +
                        (architecture ? architecture->smoothquant_refusal
                                      : "no default mappings for " + state.model->architecture() +
                                            "; give 'mappings' explicitly"));
    }
    mappings_ = default_mappings(*architecture);
  }
  if (state.model && explicit_mappings_) {
    for (const auto& mapping : mappings_) {
      const MappingMatches matches = match_mapping(*state.model, mapping.smooth, mapping.balance, false);
      require_mapping_matches(matches, mapping.location, "SmoothQuantModifier", mapping.smooth, mapping.balance, false);
    }
  }
  if (plan) plan->needs_channel_ranges = true;
  return true;
}

void SmoothQuantModifier::on_layer(State&, const Event&, LayerWork& layer) {
  nlohmann::json applied = nlohmann::json::array();
  for (const auto& mapping : mappings_) {
    // The smooth layer: a norm of this layer matched by the mapping's target.
    std::string smooth_name;
    for (const auto& [name, weight] : layer.norm_weights) {
      if (target_matches(ModuleInfo{name, {"RMSNorm"}, 0, 0}, mapping.smooth)) smooth_name = name;
    }
    if (smooth_name.empty()) continue;
    ModuleInfo smooth_info{smooth_name, {"RMSNorm"}, 0, 0};
    if (any_target_matches(smooth_info, ignore_)) continue;
    std::vector<LinearModule*> balance;
    for (auto& module : layer.linears) {
      ModuleInfo info = linear_module_info(module);
      if (any_target_matches(info, mapping.balance) && !any_target_matches(info, ignore_)) balance.push_back(&module);
    }
    if (balance.empty()) continue;
    for (auto* module : balance) {
      if (module->input != smooth_name) {
        throw LifecycleError("SmoothQuantModifier: " + module->name + " does not read the output of " + smooth_name +
                             "; the mapping cannot be smoothed");
      }
    }
    // Every other reader of the smoothed output (a router next to its experts, an up_proj a
    // mapping forgot) sees x / s with unchanged weights: the smoothing then changes the model.
    std::vector<std::string> unbalanced;
    for (const auto& module : layer.linears) {
      if (module.input == smooth_name &&
          std::find(balance.begin(), balance.end(), &module) == balance.end()) {
        unbalanced.push_back(module.name);
      }
    }
    if (!unbalanced.empty()) {
      spdlog::warn("SmoothQuantModifier: {} also feeds {} module(s) outside the mapping ({}{}); their outputs change",
                   smooth_name, unbalanced.size(), unbalanced.front(), unbalanced.size() > 1 ? ", ..." : "");
    }
    InputStatistics& stats = layer.input_of(*balance.front());
    if (!stats.channel_min.defined()) {
      throw LifecycleError("SmoothQuantModifier: no activation ranges were collected for " + smooth_name);
    }
    std::vector<at::Tensor> weights;
    for (auto* module : balance) weights.push_back(module->weight);
    // scales: [in] fp32, > 0
    at::Tensor scales = quant::smoothquant_scales(stats.channel_min, stats.channel_max, weights, smoothing_strength_);
    // An all-zero weight column divides by zero: the norm and the weights would turn NaN.
    quant::require_finite(scales, "SmoothQuantModifier: " + smooth_name + ": the smoothing scales",
                          "refusing to smooth with them");
    // Rounded to the model dtype, as a model of that dtype stores the smoothed weights.
    for (auto* module : balance) module->weight = as_stored_in(layer.model_dtype, module->weight * scales.unsqueeze(0));
    layer.norm_weights[smooth_name] = as_stored_in(layer.model_dtype, layer.norm_weights[smooth_name] / scales);
    // The smoothed input is x / s: transform the statistics to match it exactly.
    at::Tensor inverse = scales.reciprocal();
    if (stats.hessian_sum.defined()) {
      stats.hessian_sum = stats.hessian_sum * inverse.unsqueeze(0) * inverse.unsqueeze(1);
    }
    stats.channel_min = stats.channel_min * inverse;
    stats.channel_max = stats.channel_max * inverse;
    applied.push_back(smooth_name);
    spdlog::debug("layer {}: smoothed {} into {} module(s)", layer.layer_index, smooth_name, balance.size());
  }
  report("layer", layer.layer_index);
  report("smoothed", applied);
}

}  // namespace dcomp::lifecycle
