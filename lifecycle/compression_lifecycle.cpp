// reference: llm-compressor src/llmcompressor/core/lifecycle.py
#include "lifecycle/compression_lifecycle.hpp"

#include <spdlog/spdlog.h>

namespace dcomp::lifecycle {

Recipe make_recipe(const RecipeSource& source, const std::optional<std::string>& recipe_stage,
                   const std::optional<YAML::Node>& recipe_args, const ModifierRegistry& registry) {
  Recipe recipe;
  if (const auto* text = std::get_if<std::string>(&source); text && !text->empty()) {
    recipe = Recipe::create_instance(*text, registry, recipe_stage);
  } else if (const auto* given = std::get_if<Recipe>(&source)) {
    recipe = *given;
  } else if (const auto* modifiers = std::get_if<std::vector<ModifierPtr>>(&source); modifiers && !modifiers->empty()) {
    recipe = Recipe::from_modifiers(*modifiers);
  }
  if (recipe_args) recipe.set_args(*recipe_args);
  return recipe;
}

CompressionLifecycle::CompressionLifecycle(const ModifierRegistry& registry) : registry_(&registry) {}

std::vector<nlohmann::json> CompressionLifecycle::initialize(const RecipeSource& recipe,
                                                             const std::optional<std::string>& recipe_stage,
                                                             const std::optional<YAML::Node>& recipe_args,
                                                             const Kwargs& kwargs) {
  state_.update(kwargs);
  if (rules_.initialized()) return {};  // upstream: a second initialize only updates the state
  recipe_ = make_recipe(recipe, recipe_stage, recipe_args, *registry_);
  std::vector<nlohmann::json> results;
  for (const auto& modifier : recipe_.modifiers()) {
    if (auto data = modifier->initialize(state_, kwargs)) results.push_back(std::move(*data));
  }
  rules_.mark_initialized();
  spdlog::debug("lifecycle initialized with {} modifier(s)", recipe_.modifiers().size());
  return results;
}

std::vector<nlohmann::json> CompressionLifecycle::event(EventType type, std::optional<int64_t> global_step,
                                                        const Kwargs& kwargs) {
  rules_.admit_event(type, global_step, kwargs);
  Event event;
  event.type = type;  // upstream quirk kept: global_step is not copied into the Event
  std::vector<nlohmann::json> results;
  for (const auto& modifier : recipe_.modifiers()) {
    if (auto data = modifier->update_event(state_, event, kwargs)) results.push_back(std::move(*data));
  }
  return results;
}

std::vector<nlohmann::json> CompressionLifecycle::finalize(const Kwargs& kwargs) {
  rules_.check_finalize();
  std::vector<nlohmann::json> results;
  for (const auto& modifier : recipe_.modifiers()) {
    if (auto data = modifier->finalize(state_, kwargs)) results.push_back(std::move(*data));
  }
  rules_.mark_finalized();
  return results;
}

void CompressionLifecycle::reset() {
  for (const auto& modifier : recipe_.modifiers()) {
    if (!modifier->initialized() || modifier->finalized()) continue;
    try {
      modifier->finalize(state_, {});
    } catch (const std::exception& e) {
      spdlog::warn("Exception during finalizing modifier {}: {}", modifier->class_name(), e.what());
    }
  }
  state_ = State();
  recipe_ = Recipe();
  rules_ = LifecycleRules();
}

}  // namespace dcomp::lifecycle
