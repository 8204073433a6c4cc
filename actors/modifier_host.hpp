// One actor per modifier: it owns the modifier object and runs its lifecycle
// calls one at a time, turning any exception into an error reply that names
// the modifier and the call.
#pragma once

#include <memory>

#include <caf/stateful_actor.hpp>

#include "actors/actor_interfaces.hpp"
#include "lifecycle/modifier.hpp"
#include "lifecycle/state.hpp"

namespace dcomp::actors {

struct ModifierHostState {
  lifecycle::ModifierPtr modifier;
  std::shared_ptr<lifecycle::State> state;  // shared with the coordinator; used one call at a time
  static inline const char* name = "dcomp.modifier";
};

/// Implements modifier_actor: (call_atom, ModifierCall) -> ModifierReply, or an
/// error (modifier_failed, recipe_invalid or non_finite) naming modifier and call.
modifier_actor::behavior_type modifier_host(modifier_actor::stateful_pointer<ModifierHostState> self,
                                            lifecycle::ModifierPtr modifier, std::shared_ptr<lifecycle::State> state);

}  // namespace dcomp::actors
