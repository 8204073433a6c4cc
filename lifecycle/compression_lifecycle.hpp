// CompressionLifecycle: initialize → events → finalize (→ reset), applying the
// lifecycle rules and calling every modifier of the recipe in order.
// reference: llm-compressor src/llmcompressor/core/lifecycle.py
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "lifecycle/lifecycle_rules.hpp"
#include "lifecycle/recipe_source.hpp"
#include "lifecycle/state.hpp"

namespace dcomp::lifecycle {

class CompressionLifecycle {
 public:
  explicit CompressionLifecycle(const ModifierRegistry& registry = ModifierRegistry::builtin());

  State& state() { return state_; }
  const Recipe& recipe() const { return recipe_; }
  const LifecycleRules& rules() const { return rules_; }
  bool initialized() const { return rules_.initialized(); }
  bool finalized() const { return rules_.finalized(); }
  int64_t global_step() const { return rules_.global_step(); }

  /// Updates the state from kwargs; when already initialized returns nothing
  /// more (no re-initialization). Otherwise builds the recipe and initializes
  /// each modifier in recipe order, returning their non-empty results.
  std::vector<nlohmann::json> initialize(const RecipeSource& recipe = {},
                                         const std::optional<std::string>& recipe_stage = std::nullopt,
                                         const std::optional<YAML::Node>& recipe_args = std::nullopt,
                                         const Kwargs& kwargs = {});
  /// Applies the event rules, then dispatches to every modifier in order.
  std::vector<nlohmann::json> event(EventType type, std::optional<int64_t> global_step = 0,
                                    const Kwargs& kwargs = {});
  std::vector<nlohmann::json> finalize(const Kwargs& kwargs = {});
  /// Finalizes modifiers that are initialized and not finalized (errors are
  /// logged, not raised), then returns to the freshly constructed state.
  void reset();

 private:
  const ModifierRegistry* registry_;
  State state_;
  Recipe recipe_;
  LifecycleRules rules_;
};

}  // namespace dcomp::lifecycle
