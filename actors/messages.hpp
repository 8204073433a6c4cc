// The messages between callers, the coordinator actor and the modifier actors.
// They are local-only (never serialized): CAF is told so with
// CAF_ALLOW_UNSAFE_MESSAGE_TYPE, and payloads are shared, not copied.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "lifecycle/event.hpp"
#include "lifecycle/kwargs.hpp"
#include "lifecycle/modifier.hpp"
#include "lifecycle/recipe_source.hpp"

namespace dcomp::actors {

using initialize_atom = caf::atom_constant<caf::atom("initialize")>;
using event_atom = caf::atom_constant<caf::atom("event")>;
using finalize_atom = caf::atom_constant<caf::atom("finalize")>;
using reset_atom = caf::atom_constant<caf::atom("reset")>;
using call_atom = caf::atom_constant<caf::atom("call")>;

/// initialize(recipe, recipe_stage, recipe_args, **kwargs).
struct InitializeRequest {
  lifecycle::RecipeSource recipe;
  std::optional<std::string> recipe_stage;
  std::optional<YAML::Node> recipe_args;
  lifecycle::Kwargs kwargs;
};

/// event(event_type, global_step, **kwargs).
struct EventRequest {
  lifecycle::EventType type = lifecycle::EventType::BATCH_START;
  std::optional<int64_t> global_step = 0;
  lifecycle::Kwargs kwargs;
};

/// finalize(**kwargs).
struct FinalizeRequest {
  lifecycle::Kwargs kwargs;
};

/// The non-empty modifier results of one call, in recipe order.
struct LifecycleReply {
  std::vector<nlohmann::json> results;
};

/// One call from the coordinator to one modifier actor.
struct ModifierCall {
  enum class Kind { Initialize, Event, Finalize };
  Kind kind = Kind::Event;
  lifecycle::Event event;
  lifecycle::Kwargs kwargs;
};

struct ModifierReply {
  lifecycle::ModifierResult result;
};

/// Human-readable name of a call, for error messages ("initialize", "event BATCH_START").
std::string describe(const ModifierCall& call);

}  // namespace dcomp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dcomp::actors::InitializeRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dcomp::actors::EventRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dcomp::actors::FinalizeRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dcomp::actors::LifecycleReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dcomp::actors::ModifierCall)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dcomp::actors::ModifierReply)
