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

#include <caf/actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/messages.hpp"
#include "lifecycle/lifecycle_rules.hpp"
#include "lifecycle/modifier_registry.hpp"
#include "lifecycle/recipe.hpp"
#include "lifecycle/state.hpp"

namespace dcomp::actors {

struct ResetRequest {};

struct PendingCall {
  std::variant<InitializeRequest, EventRequest, FinalizeRequest, ResetRequest> request;
  caf::response_promise promise;
};

struct CoordinatorState {
  const lifecycle::ModifierRegistry* registry = nullptr;
  lifecycle::LifecycleRules rules;
  std::shared_ptr<lifecycle::State> state = std::make_shared<lifecycle::State>();
  lifecycle::Recipe recipe;
  std::vector<caf::actor> modifier_actors;  // modifier_actors[i] hosts recipe.modifiers()[i]
  std::deque<PendingCall> queue;
  bool busy = false;
  static inline const char* name = "dcomp.coordinator";
};

/// Behavior:
///   (initialize_atom, InitializeRequest) -> LifecycleReply
///   (event_atom, EventRequest)           -> LifecycleReply
///   (finalize_atom, FinalizeRequest)     -> LifecycleReply
///   (reset_atom)                         -> LifecycleReply (empty)
/// or an error (actors::lifecycle_errc) carrying the message.
caf::behavior coordinator(caf::stateful_actor<CoordinatorState>* self, const lifecycle::ModifierRegistry* registry);

}  // namespace dcomp::actors
