// reference: llm-compressor src/llmcompressor/core/lifecycle.py (the rules);
// the dispatch is dcomp's own: sequential fan-out over modifier actors.
#include "actors/coordinator.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/actor_errors.hpp"
#include "actors/modifier_host.hpp"
#include "lifecycle/recipe_source.hpp"

namespace dcomp::actors {
namespace {

using Self = coordinator_actor::stateful_base<CoordinatorState>;
using Promise = caf::typed_response_promise<LifecycleReply>;
using Results = std::shared_ptr<std::vector<nlohmann::json>>;
using Done = std::function<void(Results)>;
using Failed = std::function<void(const caf::error&)>;

void process_next(Self* self);

/// Sends `call` to modifier actors [index, end) one after another; then `done`.
void dispatch_from(Self* self, size_t index, ModifierCall call, Results results, Done done, Failed failed) {
  auto& st = self->state;
  if (index >= st.modifier_actors.size()) {
    done(results);
    return;
  }
  self->request(st.modifier_actors[index], caf::infinite, call_atom::value, call)
      .then(
          [=](ModifierReply& reply) {
            if (reply.result) results->push_back(std::move(*reply.result));
            dispatch_from(self, index + 1, call, results, done, failed);
          },
          [=](caf::error& error) { failed(error); });
}

void finish(Self* self, Promise promise, caf::error error) {
  promise.deliver(std::move(error));
  self->state.busy = false;
  process_next(self);
}

void finish(Self* self, Promise promise, Results results) {
  promise.deliver(LifecycleReply{std::move(*results)});
  self->state.busy = false;
  process_next(self);
}

void stop_modifier_actors(Self* self) {
  for (auto& actor : self->state.modifier_actors) self->send_exit(actor, caf::exit_reason::user_shutdown);
  self->state.modifier_actors.clear();
}

void handle(Self* self, InitializeRequest& request, Promise promise) {
  auto& st = self->state;
  st.state->update(request.kwargs);
  if (st.rules.initialized()) return finish(self, promise, std::make_shared<std::vector<nlohmann::json>>());
  try {
    st.recipe = lifecycle::make_recipe(request.recipe, request.recipe_stage, request.recipe_args, *st.registry);
  } catch (...) {
    return finish(self, promise, error_from_current_exception(""));
  }
  stop_modifier_actors(self);
  for (const auto& modifier : st.recipe.modifiers()) {
    st.modifier_actors.push_back(self->spawn(modifier_host, modifier, st.state));
  }
  ModifierCall call{ModifierCall::Kind::Initialize, {}, std::move(request.kwargs)};
  dispatch_from(
      self, 0, std::move(call), std::make_shared<std::vector<nlohmann::json>>(),
      [=](Results results) {
        self->state.rules.mark_initialized();
        finish(self, promise, results);
      },
      [=](const caf::error& error) { finish(self, promise, error); });
}

void handle(Self* self, EventRequest& request, Promise promise) {
  auto& st = self->state;
  try {
    st.rules.admit_event(request.type, request.global_step, request.kwargs);
  } catch (...) {
    return finish(self, promise, error_from_current_exception(""));
  }
  ModifierCall call{ModifierCall::Kind::Event, {}, std::move(request.kwargs)};
  call.event.type = request.type;  // as upstream, global_step is not copied into the Event
  dispatch_from(
      self, 0, std::move(call), std::make_shared<std::vector<nlohmann::json>>(),
      [=](Results results) { finish(self, promise, results); },
      [=](const caf::error& error) { finish(self, promise, error); });
}

void handle(Self* self, FinalizeRequest& request, Promise promise) {
  try {
    self->state.rules.check_finalize();
  } catch (...) {
    return finish(self, promise, error_from_current_exception(""));
  }
  ModifierCall call{ModifierCall::Kind::Finalize, {}, std::move(request.kwargs)};
  dispatch_from(
      self, 0, std::move(call), std::make_shared<std::vector<nlohmann::json>>(),
      [=](Results results) {
        self->state.rules.mark_finalized();
        finish(self, promise, results);
      },
      [=](const caf::error& error) { finish(self, promise, error); });
}

/// Finalizes, one after another, the modifiers from `index` on that are
/// initialized and not finalized; failures are logged, not raised. Then
/// returns the coordinator to its freshly constructed state.
void reset_from(Self* self, std::vector<lifecycle::ModifierPtr> modifiers, size_t index,
                Promise promise) {
  while (index < modifiers.size() && (!modifiers[index]->initialized() || modifiers[index]->finalized())) ++index;
  if (index >= modifiers.size()) {
    stop_modifier_actors(self);
    auto& st = self->state;
    st.rules = lifecycle::LifecycleRules();
    st.state = std::make_shared<lifecycle::State>();
    st.recipe = lifecycle::Recipe();
    finish(self, promise, std::make_shared<std::vector<nlohmann::json>>());
    return;
  }
  ModifierCall call{ModifierCall::Kind::Finalize, {}, {}};
  self->request(self->state.modifier_actors[index], caf::infinite, call_atom::value, call)
      .then([=](ModifierReply&) { reset_from(self, modifiers, index + 1, promise); },
            [=](caf::error& error) {
              spdlog::warn("Exception during finalizing modifier: {}", error_message(error));
              reset_from(self, modifiers, index + 1, promise);
            });
}

void handle(Self* self, ResetRequest&, Promise promise) {
  reset_from(self, self->state.recipe.modifiers(), 0, promise);
}

void process_next(Self* self) {
  auto& st = self->state;
  if (st.busy || st.queue.empty()) return;
  st.busy = true;
  PendingCall call = std::move(st.queue.front());
  st.queue.pop_front();
  std::visit([&](auto& request) { handle(self, request, call.promise); }, call.request);
}

template <class Request>
caf::result<LifecycleReply> enqueue(Self* self, Request request) {
  auto promise = self->make_response_promise<LifecycleReply>();
  self->state.queue.push_back(PendingCall{std::move(request), promise});
  process_next(self);
  return promise;
}

}  // namespace

coordinator_actor::behavior_type coordinator(Self* self, const lifecycle::ModifierRegistry* registry) {
  self->state.registry = registry;
  self->set_down_handler([](caf::down_msg&) {});
  return {
      [self](initialize_atom, InitializeRequest& request) { return enqueue(self, std::move(request)); },
      [self](event_atom, EventRequest& request) { return enqueue(self, std::move(request)); },
      [self](finalize_atom, FinalizeRequest& request) { return enqueue(self, std::move(request)); },
      [self](reset_atom) { return enqueue(self, ResetRequest{}); },
  };
}

}  // namespace dcomp::actors
