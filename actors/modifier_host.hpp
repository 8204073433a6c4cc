// One actor per modifier: it owns the modifier object and runs its lifecycle
// calls one at a time, turning any exception into an error reply that names
// the modifier and the call.
#pragma once

#include <memory>

#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>

#include "lifecycle/modifier.hpp"
#include "lifecycle/state.hpp"

namespace dcomp::actors {

struct ModifierHostState {
  lifecycle::ModifierPtr modifier;
  std::shared_ptr<lifecycle::State> state;  // shared with the coordinator; used one call at a time
  static inline const char* name = "dcomp.modifier";
};

/// Behavior: (call_atom, ModifierCall) -> ModifierReply | error(modifier_failed).
caf::behavior modifier_host(caf::stateful_actor<ModifierHostState>* self, lifecycle::ModifierPtr modifier,
                            std::shared_ptr<lifecycle::State> state);

}  // namespace dcomp::actors
