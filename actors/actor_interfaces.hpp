// The typed interfaces of the lifecycle actors: the messages each one accepts
// and the reply each one answers with. Sending anything else to a handle of
// these types, or answering with anything else, does not compile.
// reference: CAF 0.17 manual, "Typed Actors"
#pragma once

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"

namespace dcomp::actors {

/// The coordinator (actors/coordinator.hpp). Every call may also be answered
/// with an error (actors::lifecycle_errc) carrying the lifecycle's message.
using coordinator_actor =
    caf::typed_actor<caf::replies_to<initialize_atom, InitializeRequest>::with<LifecycleReply>,
                     caf::replies_to<event_atom, EventRequest>::with<LifecycleReply>,
                     caf::replies_to<finalize_atom, FinalizeRequest>::with<LifecycleReply>,
                     caf::replies_to<reset_atom>::with<LifecycleReply>>;

/// One modifier's host (actors/modifier_host.hpp): one lifecycle call in, the
/// modifier's result out, or an error naming the modifier and the call.
using modifier_actor = caf::typed_actor<caf::replies_to<call_atom, ModifierCall>::with<ModifierReply>>;

}  // namespace dcomp::actors
