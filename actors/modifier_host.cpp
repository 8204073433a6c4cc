#include "actors/modifier_host.hpp"

#include <caf/all.hpp>

#include "actors/actor_errors.hpp"
#include "actors/messages.hpp"
#include "kernels/quant/non_finite.hpp"
#include "lifecycle/errors.hpp"

namespace dcomp::actors {

std::string describe(const ModifierCall& call) {
  switch (call.kind) {
    case ModifierCall::Kind::Initialize: return "initialize";
    case ModifierCall::Kind::Finalize: return "finalize";
    case ModifierCall::Kind::Event:
      return "event " + std::string(call.event.type ? lifecycle::event_name(*call.event.type) : "(none)");
  }
  return "call";
}

modifier_actor::behavior_type modifier_host(modifier_actor::stateful_pointer<ModifierHostState> self,
                                            lifecycle::ModifierPtr modifier, std::shared_ptr<lifecycle::State> state) {
  self->state.modifier = std::move(modifier);
  self->state.state = std::move(state);
  return {
      [self](call_atom, const ModifierCall& call) -> caf::result<ModifierReply> {
        auto& host = self->state;
        try {
          ModifierReply reply;
          switch (call.kind) {
            case ModifierCall::Kind::Initialize:
              reply.result = host.modifier->initialize(*host.state, call.kwargs);
              break;
            case ModifierCall::Kind::Event:
              reply.result = host.modifier->update_event(*host.state, call.event, call.kwargs);
              break;
            case ModifierCall::Kind::Finalize:
              reply.result = host.modifier->finalize(*host.state, call.kwargs);
              break;
          }
          return reply;
        } catch (const lifecycle::RecipeError& e) {
          // A recipe problem found while the modifier checks its arguments against the model.
          return make_error(lifecycle_errc::recipe_invalid,
                            host.modifier->class_name() + " failed on " + describe(call) + ": " + e.what());
        } catch (const quant::NonFiniteError& e) {
          // A NaN or an infinity the modifier refused: the same input fails the same way again.
          return make_error(lifecycle_errc::non_finite,
                            host.modifier->class_name() + " failed on " + describe(call) + ": " + e.what());
        } catch (const std::exception& e) {
          return make_error(lifecycle_errc::modifier_failed,
                            host.modifier->class_name() + " failed on " + describe(call) + ": " + e.what());
        } catch (...) {
          return make_error(lifecycle_errc::modifier_failed,
                            host.modifier->class_name() + " failed on " + describe(call) + ": unknown exception");
        }
      },
  };
}

}  // namespace dcomp::actors
