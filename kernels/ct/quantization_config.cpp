// reference: compressed-tensors src/compressed_tensors/quantization/quant_config.py,
// compressors/model_compressors/model_compressor.py (update_config), config/dense.py.
#include "kernels/ct/quantization_config.hpp"


#include <set>

#include "kernels/ct/compression_format.hpp"
#include "kernels/ct/name_pattern.hpp"
#include "kernels/ct/target_matching.hpp"

namespace dcomp::ct {
namespace {

[[noreturn]] void fail(const std::string& where, const std::string& problem) {
  throw quant::QuantConfigError(where + ": " + problem);
}

std::vector<std::string> string_list(const nlohmann::json& json, const std::string& where) {
  std::vector<std::string> items;
  if (json.is_null()) return items;
  if (json.is_string()) return {json.get<std::string>()};
  if (!json.is_array()) fail(where, "expected a list of strings, got " + json.dump());
  for (const auto& item : json) {
    if (!item.is_string()) fail(where, "expected a list of strings, got " + json.dump());
    items.push_back(item.get<std::string>());
  }
  return items;
}

// Every "re:" entry of `targets` must be a pattern dcomp can match (name_pattern.hpp).
void check_patterns(const std::vector<std::string>& targets, const std::string& where) {
  for (size_t i = 0; i < targets.size(); ++i) {
    if (const auto problem = name_pattern_problem(targets[i])) fail(where + "[" + std::to_string(i) + "]", *problem);
  }
}

std::string optional_string(const nlohmann::json& json, const char* key, const std::string& where,
                            const std::string& fallback) {
  if (!json.contains(key) || json.at(key).is_null()) return fallback;
  if (!json.at(key).is_string()) fail(where + "." + key, "expected a string, got " + json.at(key).dump());
  return json.at(key).get<std::string>();
}

}  // namespace

const std::vector<std::string>& linear_class_names() {
  static const std::vector<std::string> names{"Linear"};
  return names;
}

nlohmann::json build_quantization_config(const std::vector<std::pair<std::string, quant::QuantizationScheme>>& groups,
                                         const std::vector<std::string>& ignore,
                                         const QuantizationConfigOptions& options) {
  nlohmann::json config_groups = nlohmann::json::object();
  std::set<std::string> formats;
  for (const auto& [name, scheme] : groups) {
    const std::string where = "quantization config group \"" + name + "\"";
    if (name.empty()) fail("quantization config", "a config group has an empty name");
    if (config_groups.contains(name)) fail(where, "the group name appears more than once");
    if (scheme.targets.empty()) fail(where, "the group has no targets");
    for (const auto* args : {&scheme.weights, &scheme.input_activations, &scheme.output_activations}) {
      if (*args) {
        try {
          (*args)->validate();
        } catch (const quant::QuantConfigError& error) {
          fail(where, error.what());
        }
      }
    }
    quant::QuantizationScheme written = scheme;
    written.format = options.forced_format ? *options.forced_format : module_format(scheme);
    if (*written.format == format::kMixedPrecision) {
      fail(where, "\"mixed-precision\" describes a whole model, not one config group");
    }
    formats.insert(*written.format);
    config_groups[name] = quant::to_json(written);
  }

  nlohmann::json config = nlohmann::json::object();
  config["config_groups"] = config_groups;
  config["format"] = model_format(formats);
  config["global_compression_ratio"] = nullptr;
  config["ignore"] = ignore;
  config["kv_cache_scheme"] = nullptr;
  if (options.kv_cache_scheme) {
    nlohmann::json kv = quant::to_json(*options.kv_cache_scheme);
    // An unset observer stays null, as llm-compressor writes it (its default is "minmax").
    kv["observer"] = options.kv_cache_scheme->observer ? nlohmann::json(*options.kv_cache_scheme->observer)
                                                       : nlohmann::json(nullptr);
    config["kv_cache_scheme"] = kv;
  }
  config["quant_method"] = "compressed-tensors";
  config["quantization_status"] = "compressed";
  config["sparsity_config"] = options.sparsity_config.is_null() ? nlohmann::json::object() : options.sparsity_config;
  config["transform_config"] = nlohmann::json::object();
  config["version"] = options.version;
  return config;
}

void name_quantized_head_in_targets(std::vector<std::pair<std::string, quant::QuantizationScheme>>& groups) {
  const std::vector<std::string> head_classes{"Linear"};  // lm_head is a torch.nn.Linear in transformers
  std::vector<std::vector<std::string>> targets;
  for (const auto& group : groups) {
    if (matches_any(group.second.targets, "lm_head", {})) return;  // named already: vLLM finds it
    targets.push_back(group.second.targets);
  }
  const int chosen = best_matching_group(targets, "lm_head", head_classes);
  if (chosen >= 0) groups[static_cast<size_t>(chosen)].second.targets.push_back("lm_head");
}

nlohmann::json build_sparsity_config(const std::string& structure, double global_sparsity,
                                     const std::vector<std::string>& targets, const std::vector<std::string>& ignore,
                                     const std::string& format) {
  if (format != format::kDense && format != format::kSparse24Bitmask) {
    fail("sparsity config", "format must be \"dense\" or \"sparse-24-bitmask\", got \"" + format + "\"");
  }
  if (format == format::kSparse24Bitmask && structure != "2:4") {
    fail("sparsity config", "sparse-24-bitmask stores only 2:4 sparsity, not \"" + structure + "\"");
  }
  return {{"format", format},
          {"global_sparsity", global_sparsity},
          {"ignore", ignore},
          {"registry_requires_subclass", false},
          {"sparsity_structure", structure},
          {"targets", targets}};
}

QuantizationConfig QuantizationConfig::from_json(const nlohmann::json& json, const std::string& where) {
  if (!json.is_object()) fail(where, "expected an object, got " + json.dump());
  QuantizationConfig config;
  const std::string method = optional_string(json, "quant_method", where, "compressed-tensors");
  if (method != "compressed-tensors" && method != "sparseml") {
    fail(where + ".quant_method", "\"" + method + "\" is not a compressed-tensors checkpoint");
  }
  if (json.contains("config_groups") && !json.at("config_groups").is_null()) {
    const auto& groups = json.at("config_groups");
    if (!groups.is_object()) fail(where + ".config_groups", "expected an object of named groups");
    for (const auto& item : groups.items()) {
      const std::string group_where = where + ".config_groups." + item.key();
      if (item.value().is_array() || item.value().is_string()) {
        // A preset name mapped to its targets: {"W4A16": ["Linear"]}.
        config.groups.emplace_back(item.key(),
                                   quant::preset_scheme(item.key(), string_list(item.value(), group_where)));
      } else {
        config.groups.emplace_back(item.key(), quant::scheme_from_json(item.value(), group_where));
      }
      check_patterns(config.groups.back().second.targets, group_where + ".targets");
    }
  }
  if (json.contains("ignore")) config.ignore = string_list(json.at("ignore"), where + ".ignore");
  check_patterns(config.ignore, where + ".ignore");
  config.format = optional_string(json, "format", where, format::kDense);
  config.quantization_status = optional_string(json, "quantization_status", where, "");
  if (json.contains("kv_cache_scheme")) config.kv_cache_scheme = json.at("kv_cache_scheme");
  if (json.contains("sparsity_config") && json.at("sparsity_config").is_object() &&
      !json.at("sparsity_config").empty()) {
    const auto& sparsity = json.at("sparsity_config");
    const std::string sparsity_where = where + ".sparsity_config";
    config.sparsity_format = optional_string(sparsity, "format", sparsity_where, format::kDense);
    if (sparsity.contains("targets")) config.sparsity_targets = string_list(sparsity.at("targets"), sparsity_where);
    if (sparsity.contains("ignore")) config.sparsity_ignore = string_list(sparsity.at("ignore"), sparsity_where);
    check_patterns(config.sparsity_targets, sparsity_where + ".targets");
    check_patterns(config.sparsity_ignore, sparsity_where + ".ignore");
    if (*config.sparsity_format != format::kDense && *config.sparsity_format != format::kSparse24Bitmask) {
      fail(sparsity_where + ".format", "sparsity format \"" + *config.sparsity_format +
                                           "\" is not supported (supported: dense, sparse-24-bitmask)");
    }
  }
  return config;
}

const std::pair<std::string, quant::QuantizationScheme>* QuantizationConfig::group_for(
    const std::string& module_name) const {
  if (matches_any(ignore, module_name, linear_class_names())) return nullptr;
  std::vector<std::vector<std::string>> targets;
  targets.reserve(groups.size());
  for (const auto& group : groups) targets.push_back(group.second.targets);
  const int index = best_matching_group(targets, module_name, linear_class_names());
  return index < 0 ? nullptr : &groups[static_cast<size_t>(index)];
}

std::string QuantizationConfig::format_for(const std::string& module_name) const {
  const auto* group = group_for(module_name);
  if (!group || !group->second.weights) return format::kDense;
  if (group->second.format) return *group->second.format;
  if (format != format::kMixedPrecision && format != format::kDense) return format;
  return infer_module_format(group->second.weights, group->second.input_activations);
}

bool QuantizationConfig::uses_sparse_24_bitmask(const std::string& module_name) const {
  if (!sparsity_format || *sparsity_format != format::kSparse24Bitmask) return false;
  if (matches_any(sparsity_ignore, module_name, linear_class_names())) return false;
  return matches_any(sparsity_targets, module_name, linear_class_names());
}

}  // namespace dcomp::ct
