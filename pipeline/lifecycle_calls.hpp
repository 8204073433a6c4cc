// The compression lifecycle as the driver calls it: initialize with the recipe, one event per
// step of the run, finalize. Who runs the modifiers (the coordinator actor, in actors/) is not
// the driver's concern; errors come back as lifecycle's exceptions (LifecycleError,
// RecipeError, ModifierFailure).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "lifecycle/event.hpp"
#include "lifecycle/kwargs.hpp"
#include "lifecycle/recipe_source.hpp"

namespace dcomp::pipeline {

class LifecycleCalls {
 public:
  virtual ~LifecycleCalls() = default;
  /// initialize(recipe, **kwargs): the recipe's modifiers start; returns their non-empty results.
  virtual std::vector<nlohmann::json> initialize(lifecycle::RecipeSource recipe, lifecycle::Kwargs kwargs) = 0;
  /// event(event_type, global_step, **kwargs), in recipe order; returns the modifiers' non-empty results.
  virtual std::vector<nlohmann::json> event(lifecycle::EventType type, std::optional<int64_t> global_step,
                                            lifecycle::Kwargs kwargs) = 0;
  /// finalize(**kwargs).
  virtual std::vector<nlohmann::json> finalize(lifecycle::Kwargs kwargs) = 0;
};

}  // namespace dcomp::pipeline
