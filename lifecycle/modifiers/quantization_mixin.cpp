// reference: llm-compressor modifiers/quantization/quantization/mixin.py (resolve_quantization_config)
#include "lifecycle/modifiers/quantization_mixin.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "kernels/quant/observer_validation.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/modifiers/kv_cache_scales.hpp"
#include "lifecycle/target_match.hpp"
#include "lifecycle/yaml_json.hpp"
#include "kernels/io/name_affixes.hpp"

namespace dcomp::lifecycle {

quant::ActOrder parse_actorder(const std::string& text, const std::string& where) {
  if (text == "static" || text == "weight") return quant::ActOrder::Static;
  if (text == "group" || text == "dynamic" || text == "true" || text == "True") return quant::ActOrder::Group;
  if (text == "none" || text == "None" || text == "null" || text.empty() || text == "false") return quant::ActOrder::None;
  throw RecipeError(where + ": actorder must be one of static, weight, group, dynamic or null, not '" + text + "'");
}

void QuantizationMixin::read_args(ModifierArgs& args) {
  location_ = args.location();
  YAML::Node scheme = args.raw("scheme");
  if (scheme && !scheme.IsNull()) {
    if (scheme.IsScalar()) {
      scheme_name_ = scheme.as<std::string>();
    } else if (scheme.IsMap()) {
      scheme_dict_ = yaml_to_json(scheme);
    } else {
      args.fail("scheme", "must be a preset name or a mapping of preset names to targets");
    }
  }
  YAML::Node groups = args.raw("config_groups");
  if (groups && !groups.IsNull()) {
    if (!groups.IsMap()) args.fail("config_groups", "must be a mapping of group names to schemes");
    config_groups_ = yaml_to_json(groups);
  }
  if (auto targets = args.string_list("targets")) targets_ = *targets;
  if (auto ignore = args.string_list("ignore")) ignore_ = *ignore;
  weight_observer_ = args.optional<std::string>("weight_observer");
  input_observer_ = args.optional<std::string>("input_observer");
  output_observer_ = args.optional<std::string>("output_observer");
  YAML::Node observer = args.raw("observer");
  if (observer && !observer.IsNull()) {
    if (weight_observer_ || input_observer_ || output_observer_) {
      args.fail("observer", "cannot be combined with weight_observer, input_observer or output_observer");
    }
    if (!observer.IsMap()) args.fail("observer", "must be a mapping with keys weights, input, output");
    for (auto it = observer.begin(); it != observer.end(); ++it) {
      if (!it->first.IsScalar() || !it->second.IsScalar()) {
        args.fail("observer", "must map weights, input and output to observer names");
      }
      auto key = it->first.as<std::string>();
      auto value = it->second.as<std::string>();
      if (key == "weights") weight_observer_ = value;
      else if (key == "input") input_observer_ = value;
      else if (key == "output") output_observer_ = value;
      else args.fail("observer", "has an unknown key '" + key + "' (expected weights, input, output)");
    }
  }
  YAML::Node kv_cache = args.raw("kv_cache_scheme");
  if (kv_cache && !kv_cache.IsNull()) {
    if (!kv_cache.IsMap()) args.fail("kv_cache_scheme", "must be a mapping of quantization arguments");
    kv_cache_scheme_json_ = yaml_to_json(kv_cache);
    try {
      quant::QuantizationArgs kv = quant::args_from_json(*kv_cache_scheme_json_, "kv_cache_scheme");
      // An unset observer means llm-compressor's moving-average "minmax" (written back as null).
      if (!kv_cache_scheme_json_->contains("observer") || kv_cache_scheme_json_->at("observer").is_null()) {
        kv.observer.reset();
      }
      validate_kv_cache_scheme(kv);
      kv_cache_scheme_ = kv;
    } catch (const quant::QuantConfigError& error) {
      args.fail("kv_cache_scheme", error.what());
    }
  }
  YAML::Node actorder = args.raw("actorder");
  if (actorder) {
    if (!actorder.IsNull() && !actorder.IsScalar()) {
      args.fail("actorder", "must be one of static, weight, group, dynamic or null");
    }
    actorder_literal_ = actorder.IsNull() ? "" : actorder.as<std::string>();
    actorder_override_ = parse_actorder(actorder_literal_, args.location("actorder"));
  }
  bypass_divisibility_checks_ = args.get<bool>("bypass_divisibility_checks", false);
  args.ignore_sequential_update();
  if (scheme_name_ || scheme_dict_) {
    if (config_groups_) args.fail("scheme", "and config_groups are mutually exclusive; give only one");
  }
}

void QuantizationMixin::resolve(const std::optional<quant::ActOrder>& default_actorder, const std::string& owner) {
  groups_.clear();
  const std::string where = location_ + ": " + owner;
  try {
    if (scheme_name_) {
      groups_.emplace_back("group_0", quant::preset_scheme(*scheme_name_, targets_));
    } else if (scheme_dict_) {
      int index = 0;
      for (auto& [preset, targets] : scheme_dict_->items()) {
        std::vector<std::string> list;
        if (targets.is_string()) list.push_back(targets.get<std::string>());
        else for (const auto& t : targets) list.push_back(t.get<std::string>());
        groups_.emplace_back("group_" + std::to_string(index++), quant::preset_scheme(preset, list));
      }
    } else if (config_groups_) {
      for (auto& [name, value] : config_groups_->items()) {
        if (value.is_array()) {  // a list of targets under a preset name
          std::vector<std::string> list;
          for (const auto& t : value) list.push_back(t.get<std::string>());
          groups_.emplace_back(name, quant::preset_scheme(name, list));
        } else {
          groups_.emplace_back(name, quant::scheme_from_json(value, "config_groups." + name));
        }
      }
    }
  } catch (const quant::QuantConfigError& e) {
    throw RecipeError(where + ": " + e.what());
  }
  for (auto& [name, scheme] : groups_) {
    if (scheme.targets.empty()) throw RecipeError(where + ": config group '" + name + "' has no targets");
    if (scheme.weights) {
      auto& w = *scheme.weights;
      if (weight_observer_) w.observer = *weight_observer_;
      if (actorder_override_) {
        if (w.actorder != quant::ActOrder::None && w.actorder != *actorder_override_) {
          throw RecipeError(where + ": actorder '" + actorder_literal_ + "' conflicts with config group '" + name +
                            "' actorder '" + w.actorder_literal + "'");
        }
        w.actorder = *actorder_override_;
        w.actorder_literal = actorder_literal_;
      } else if (default_actorder && w.actorder == quant::ActOrder::None && w.actorder_literal.empty()) {
        w.actorder = *default_actorder;
        w.actorder_literal = "static";
      }
      if (w.actorder == quant::ActOrder::Group && w.resolved_strategy() != quant::Strategy::Group) {
        spdlog::warn("{}: actorder 'group' needs the group strategy; group '{}' uses {} so actorder is disabled",
                     where, name, quant::to_string(w.resolved_strategy()));
        w.actorder = quant::ActOrder::None;
        w.actorder_literal = "";
      }
      if (w.actorder == quant::ActOrder::Group) {
        spdlog::warn("{}: config group '{}' uses actorder 'group': the checkpoint stores weight_g_idx, which "
                     "compressed-tensors 0.16 and earlier load; 0.19 and later (llm-compressor 0.14's) refuse "
                     "actorder 'group'; actorder 'weight' writes checkpoints every version loads",
                     where, name);
      }
      try {
        w.validate();
      } catch (const quant::QuantConfigError& e) {
        throw RecipeError(where + ": config group '" + name + "' weights: " + e.what());
      }
    }
    if (scheme.input_activations && input_observer_) scheme.input_activations->observer = *input_observer_;
    if (scheme.output_activations && output_observer_) scheme.output_activations->observer = *output_observer_;
    validate_observers(scheme, where + ": config group '" + name + "' ");
  }
}

void QuantizationMixin::validate_observers(const quant::QuantizationScheme& scheme, const std::string& where) const {
  const struct {
    const std::optional<quant::QuantizationArgs>& args;
    const char* part;
    quant::ObservedTensor tensor;
    const std::optional<std::string>& override_field;
    const char* override_name;
  } parts[] = {{scheme.weights, "weights", quant::ObservedTensor::Weights, weight_observer_, "weight_observer"},
               {scheme.input_activations, "input_activations", quant::ObservedTensor::Activations, input_observer_,
                "input_observer"},
               {scheme.output_activations, "output_activations", quant::ObservedTensor::Activations,
                output_observer_, "output_observer"}};
  for (const auto& part : parts) {
    if (!part.args) continue;
    try {
      quant::validate_observer(*part.args, part.tensor);
    } catch (const quant::QuantConfigError& e) {
      throw RecipeError(where + part.part + ": " + e.what() +
                        (part.override_field ? std::string(" (the observer was set by ") + part.override_name + ")"
                                             : std::string()));
    }
  }
}

void QuantizationMixin::adopt(const CompressionPlan& plan) {
  groups_ = plan.quantization_groups;
  ignore_.insert(ignore_.end(), plan.quantization_ignore.begin(), plan.quantization_ignore.end());
  adopted_ = true;
}

std::optional<quant::QuantizationScheme> QuantizationMixin::scheme_for(const ModuleInfo& module) const {
  if (any_target_matches(module, ignore_)) return std::nullopt;
  // Priority: exact names, then regexes (alphabetically), then class names; first match wins.
  const quant::QuantizationScheme* best = nullptr;
  int best_priority = 3;
  std::string best_target;
  for (const auto& [name, scheme] : groups_) {
    for (const auto& target : scheme.targets) {
      if (!target_matches(module, target)) continue;
      int priority = target_priority(target);
      if (priority < best_priority || (priority == best_priority && priority == 1 && target < best_target)) {
        best = &scheme;
        best_priority = priority;
        best_target = target;
      }
    }
  }
  if (!best) return std::nullopt;
  return *best;
}

std::vector<ModuleInfo> QuantizationMixin::quantized_modules(const ModelHandle& model, const std::string& owner) const {
  std::vector<ModuleInfo> out;
  for (const auto& module : model.modules()) {
    auto scheme = scheme_for(module);
    if (!scheme || !scheme->weights) continue;
    const auto& w = *scheme->weights;
    if (quant::is_grouped(w.resolved_strategy()) && w.group_size && *w.group_size > 0 &&
        module.in_features % *w.group_size != 0) {
      // Refused here, at initialize, with or without bypass_divisibility_checks: dcomp's
      // group kernels and checkpoint layout need whole groups.
      throw RecipeError(location_ + ": " + owner + ": " + module.name + " has " + std::to_string(module.in_features) +
                        " input features, not divisible by group_size " + std::to_string(*w.group_size) +
                        (bypass_divisibility_checks_ ? "; bypass_divisibility_checks is set, but dcomp does not "
                                                       "quantize a partial last group"
                                                     : "") +
                        " (choose a group_size that divides " + std::to_string(module.in_features) +
                        ", or add the module to ignore)");
    }
    if (scheme->input_activations && quant::is_grouped(scheme->input_activations->resolved_strategy()) &&
        scheme->input_activations->group_size && module.in_features % *scheme->input_activations->group_size != 0) {
      throw RecipeError(location_ + ": " + owner + ": " + module.name + " has " + std::to_string(module.in_features) +
                        " input features, not divisible by the input activations' group_size " +
                        std::to_string(*scheme->input_activations->group_size) +
                        " (activations are quantized in whole groups; add the module to ignore)");
    }
    if (w.resolved_strategy() == quant::Strategy::Block && w.block_structure) {
      const int64_t rows = (*w.block_structure)[0], columns = (*w.block_structure)[1];
      // A block taller than the weight is one partial block row (vLLM takes those); one wider than
      // its input cannot be: vLLM's block kernels need whole blocks along the input.
      if (columns > module.in_features) {
        throw RecipeError(location_ + ": " + owner + ": block_structure [" + std::to_string(rows) + ", " +
                          std::to_string(columns) + "] is wider than " + module.name + "'s [" +
                          std::to_string(module.out_features) + ", " + std::to_string(module.in_features) +
                          "] weight (choose a smaller block, or add the module to ignore)");
      }
    }
    out.push_back(module);
  }
  return out;
}

std::vector<std::string> QuantizationMixin::unquantized_linears(const ModelHandle& model) const {
  std::vector<std::string> out;
  for (const auto& module : model.modules()) {
    if (std::find(module.class_names.begin(), module.class_names.end(), "Linear") == module.class_names.end()) continue;
    auto scheme = scheme_for(module);
    if (!scheme || !scheme->weights) out.push_back(module.name);
  }
  return out;
}

// reference: vLLM's MLA attention backends cache the compressed latent and the rotary key of
// every token (one head), not per-head keys and values.
void QuantizationMixin::refuse_kv_cache_on_latent_attention(const ModelHandle& model) const {
  for (const auto& module : model.modules()) {
    if (!io::ends_with(module.name, ".self_attn.kv_a_proj_with_mqa")) continue;
    throw RecipeError(location_ + ": kv_cache_scheme is not supported for " + model.architecture() +
                      ": its multi-head latent attention (" + module.name +
                      ") caches the compressed latent, which per-head k_scale/v_scale do not describe; "
                      "remove kv_cache_scheme from the recipe");
  }
}

void QuantizationMixin::declare(CompressionPlan& plan, const ModelHandle* model) const {
  const bool first_declaration = plan.quantization_groups.empty();
  for (const auto& group : groups_) {
    auto clash = std::find_if(plan.quantization_groups.begin(), plan.quantization_groups.end(),
                              [&](const auto& g) { return g.first == group.first; });
    std::string name = group.first;
    if (clash != plan.quantization_groups.end()) name += "_" + std::to_string(plan.quantization_groups.size());
    plan.quantization_groups.emplace_back(name, group.second);
  }
  if (kv_cache_scheme_ && model) refuse_kv_cache_on_latent_attention(*model);
  if (kv_cache_scheme_) {
    if (plan.kv_cache_scheme && quant::to_json(*plan.kv_cache_scheme) != quant::to_json(*kv_cache_scheme_)) {
      throw RecipeError(location_ + ": kv_cache_scheme differs from an earlier modifier's; a model has one KV cache");
    }
    plan.kv_cache_scheme = kv_cache_scheme_;
    plan.needs_key_value_ranges = true;
  }
  if (model) {
    auto unquantized = unquantized_linears(*model);
    if (first_declaration) {
      plan.quantization_ignore = unquantized;
    } else {  // several quantization modifiers: ignored only when none quantizes it
      std::vector<std::string> both;
      for (const auto& name : plan.quantization_ignore) {
        if (std::find(unquantized.begin(), unquantized.end(), name) != unquantized.end()) both.push_back(name);
      }
      plan.quantization_ignore = both;
    }
  } else {
    plan.quantization_ignore = ignore_;
  }
}

nlohmann::json QuantizationMixin::serialize() const {
  nlohmann::json out = nlohmann::json::object();
  if (scheme_name_) out["scheme"] = *scheme_name_;
  if (scheme_dict_) out["scheme"] = *scheme_dict_;
  if (config_groups_) out["config_groups"] = *config_groups_;
  out["targets"] = targets_;
  if (!ignore_.empty()) out["ignore"] = ignore_;
  if (!actorder_literal_.empty()) out["actorder"] = actorder_literal_;
  if (weight_observer_) out["weight_observer"] = *weight_observer_;
  if (input_observer_) out["input_observer"] = *input_observer_;
  if (output_observer_) out["output_observer"] = *output_observer_;
  if (bypass_divisibility_checks_) out["bypass_divisibility_checks"] = true;
  if (kv_cache_scheme_json_) out["kv_cache_scheme"] = *kv_cache_scheme_json_;
  return out;
}

}  // namespace dcomp::lifecycle
