// A blocking facade over the coordinator actor, with the same calls as
// lifecycle::CompressionLifecycle. Errors come back as the same exceptions:
// LifecycleError, RecipeError, or ModifierFailure (naming modifier and event).
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

namespace dcomp::actors {

class LifecycleClient {
 public:
  /// Spawns a coordinator in `system` using `registry` for recipe names.
  LifecycleClient(caf::actor_system& system, const lifecycle::ModifierRegistry& registry);
  /// Talks to an existing coordinator.
  LifecycleClient(caf::actor_system& system, coordinator_actor coordinator);
  ~LifecycleClient();

  const coordinator_actor& coordinator() const { return coordinator_; }

  std::vector<nlohmann::json> initialize(InitializeRequest request);
  std::vector<nlohmann::json> event(lifecycle::EventType type, std::optional<int64_t> global_step = 0,
                                    lifecycle::Kwargs kwargs = {});
  std::vector<nlohmann::json> finalize(lifecycle::Kwargs kwargs = {});
  void reset();

 private:
  template <class... Ts>
  std::vector<nlohmann::json> call(Ts&&... xs);

  caf::actor_system& system_;
  coordinator_actor coordinator_;
  bool owns_coordinator_ = false;
};

}  // namespace dcomp::actors
