// The coordinator actor: it owns the lifecycle rules, receives initialize /
// event / finalize / reset as messages, and fans each call out to one actor per
// modifier, in recipe order, waiting for each before the next. Calls from
// concurrent callers are queued and handled one at a time in arrival order, so
// no event reaches a modifier after finalize. Every rule violation, recipe
// problem or modifier exception becomes an error reply; the actor system never
// crashes.
#pragma once

#include <deque>
#include <memory>
#include <variant>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/actor_interfaces.hpp"
#include "actors/messages.hpp"
#include "lifecycle/lifecycle_rules.hpp"
#include "lifecycle/modifier_registry.hpp"
#include "lifecycle/recipe.hpp"
#include "lifecycle/state.hpp"

namespace dcomp::actors {

struct ResetRequest {};

struct PendingCall {
  std::variant<InitializeRequest, EventRequest, FinalizeRequest, ResetRequest> request;
  caf::typed_response_promise<LifecycleReply> promise;
};

struct CoordinatorState {
  const lifecycle::ModifierRegistry* registry = nullptr;
  lifecycle::LifecycleRules rules;
  std::shared_ptr<lifecycle::State> state = std::make_shared<lifecycle::State>();
  lifecycle::Recipe recipe;
  std::vector<modifier_actor> modifier_actors;  // modifier_actors[i] hosts recipe.modifiers()[i]
  std::deque<PendingCall> queue;
  bool busy = false;
  static inline const char* name = "dcomp.coordinator";
};

/// Implements coordinator_actor:
///   (initialize_atom, InitializeRequest) -> LifecycleReply
///   (event_atom, EventRequest)           -> LifecycleReply
///   (finalize_atom, FinalizeRequest)     -> LifecycleReply
///   (reset_atom)                         -> LifecycleReply (empty)
/// or an error (actors::lifecycle_errc) carrying the message.
coordinator_actor::behavior_type coordinator(coordinator_actor::stateful_pointer<CoordinatorState> self,
                                             const lifecycle::ModifierRegistry* registry);

}  // namespace dcomp::actors
