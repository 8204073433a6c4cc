// The quantization arguments shared by QuantizationModifier and GPTQModifier:
// `scheme` or `config_groups`, `targets`, `ignore`, observer overrides; their
// resolution into named config groups and, per module, the scheme that applies.
// reference: llm-compressor src/llmcompressor/modifiers/quantization/quantization/mixin.py,
//            compressed-tensors quantization/lifecycle/apply.py (_scheme_from_targets)
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernels/quant/quant_args.hpp"
#include "lifecycle/layer_work.hpp"
#include "lifecycle/model_handle.hpp"
#include "lifecycle/modifier_args.hpp"

namespace dcomp::lifecycle {

class QuantizationMixin {
 public:
  /// Reads the mixin's arguments; `class_name` is used in messages.
  void read_args(ModifierArgs& args);
  /// Resolves presets and config groups; applies observer overrides. When
  /// `default_actorder` is set (GPTQ), it fills weight args whose actorder is unset.
  void resolve(const std::optional<quant::ActOrder>& default_actorder, const std::string& owner);

  /// True when the recipe gave this modifier a scheme, config_groups or a kv_cache_scheme.
  bool has_config() const { return scheme_name_ || scheme_dict_ || config_groups_ || kv_cache_scheme_; }
  /// The recipe's kv_cache_scheme (FP8 K and V scales per layer), checked at read_args.
  const std::optional<quant::QuantizationArgs>& kv_cache_scheme() const { return kv_cache_scheme_; }
  /// A modifier without a config of its own takes the groups earlier modifiers declared in
  /// `plan` (and leaves the Linears they left unquantized alone), as llm-compressor's
  /// GPTQModifier solves the schemes a QuantizationModifier before it attached.
  void adopt(const CompressionPlan& plan);
  bool adopted() const { return adopted_; }
  const std::vector<std::pair<std::string, quant::QuantizationScheme>>& groups() const { return groups_; }
  const std::vector<std::string>& ignore() const { return ignore_; }
  /// "recipe.yaml:3:5": where the recipe gives this modifier's arguments.
  const std::string& location() const { return location_; }
  /// The scheme for a module, or nullopt when no group targets it or it is ignored.
  std::optional<quant::QuantizationScheme> scheme_for(const ModuleInfo& module) const;
  /// Modules of the model with weight quantization, in model order; checks
  /// group divisibility unless bypassed, and that something is targeted.
  std::vector<ModuleInfo> quantized_modules(const ModelHandle& model, const std::string& owner) const;
  /// Linear modules that no group quantizes (the config's `ignore` list).
  std::vector<std::string> unquantized_linears(const ModelHandle& model) const;
  /// Adds the resolved groups and ignore list to the plan.
  void declare(CompressionPlan& plan, const ModelHandle* model) const;
  /// The arguments as written back to a recipe.
  nlohmann::json serialize() const;

 private:
  /// Refuses, naming the group and its part, an observer dcomp does not implement for it and
  /// observer_kwargs that observer does not read (`where`: "<file:line>: <owner>: config group 'g' ").
  void validate_observers(const quant::QuantizationScheme& scheme, const std::string& where) const;
  /// Refuses a kv_cache_scheme on a model with multi-head latent attention (a
  /// kv_a_proj_with_mqa Linear), whose cache holds latents rather than per-head keys and values.
  void refuse_kv_cache_on_latent_attention(const ModelHandle& model) const;

  std::optional<std::string> scheme_name_;
  std::optional<nlohmann::json> scheme_dict_;
  std::optional<nlohmann::json> config_groups_;
  std::vector<std::string> targets_ = {"Linear"};
  std::vector<std::string> ignore_;
  std::optional<std::string> weight_observer_, input_observer_, output_observer_;
  std::optional<quant::ActOrder> actorder_override_;
  std::string actorder_literal_;
  bool bypass_divisibility_checks_ = false;
  std::optional<quant::QuantizationArgs> kv_cache_scheme_;
  std::optional<nlohmann::json> kv_cache_scheme_json_;  // as written, for serialize()
  std::string location_;
  std::vector<std::pair<std::string, quant::QuantizationScheme>> groups_;
  bool adopted_ = false;
};

/// "static"/"weight" → Static, "group"/"dynamic" → Group, "none"/null → None; throws otherwise.
quant::ActOrder parse_actorder(const std::string& text, const std::string& where);

}  // namespace dcomp::lifecycle
