// A blocking facade over the coordinator actor, with the same calls as
// lifecycle::CompressionLifecycle. Errors come back as the same exceptions:
// LifecycleError, RecipeError, or ModifierFailure (naming modifier and event).
// It is the one-shot driver's pipeline::LifecycleCalls.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <nlohmann/json.hpp>

#include "actors/actor_interfaces.hpp"
#include "actors/messages.hpp"
#include "lifecycle/modifier_registry.hpp"
#include "pipeline/lifecycle_calls.hpp"

namespace dcomp::actors {

class LifecycleClient : public pipeline::LifecycleCalls {
 public:
  /// Spawns a coordinator in `system` using `registry` for recipe names.
  LifecycleClient(caf::actor_system& system, const lifecycle::ModifierRegistry& registry);
  /// Talks to an existing coordinator.
  LifecycleClient(caf::actor_system& system, coordinator_actor coordinator);
  ~LifecycleClient() override;

  const coordinator_actor& coordinator() const { return coordinator_; }

  std::vector<nlohmann::json> initialize(InitializeRequest request);
  /// initialize with the recipe and keyword arguments only (no stage, no recipe arguments).
  std::vector<nlohmann::json> initialize(lifecycle::RecipeSource recipe, lifecycle::Kwargs kwargs) override;
  std::vector<nlohmann::json> event(lifecycle::EventType type, std::optional<int64_t> global_step = 0,
                                    lifecycle::Kwargs kwargs = {}) override;
  std::vector<nlohmann::json> finalize(lifecycle::Kwargs kwargs = {}) override;
  void reset();

 private:
  template <class... Ts>
  std::vector<nlohmann::json> call(Ts&&... xs);

  caf::actor_system& system_;
  coordinator_actor coordinator_;
  bool owns_coordinator_ = false;
};

}  // namespace dcomp::actors
