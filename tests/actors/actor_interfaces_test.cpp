// The typed interfaces of the lifecycle actors: which messages each accepts and
// what it replies with is fixed at compile time (a wrong message does not
// compile), and the spawned actors keep their names.
// reference: CAF 0.17 manual, "Typed Actors"
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>

#include <caf/response_type.hpp>

#include "actors/actor_interfaces.hpp"
#include "actors/coordinator.hpp"
#include "actors/modifier_host.hpp"
#include "tests/actors/deterministic_actor_system.hpp"
#include "tests/lifecycle/recording_modifier.hpp"

namespace dcomp::actors {
namespace {

template <class Handle, class... Message>
constexpr bool accepts = caf::response_type<typename Handle::signatures, Message...>::valid;

template <class Handle, class Reply, class... Message>
constexpr bool replies_with =
    std::is_same_v<caf::response_type_t<typename Handle::signatures, Message...>, caf::detail::type_list<Reply>>;

static_assert(replies_with<coordinator_actor, LifecycleReply, initialize_atom, InitializeRequest>);
static_assert(replies_with<coordinator_actor, LifecycleReply, event_atom, EventRequest>);
static_assert(replies_with<coordinator_actor, LifecycleReply, finalize_atom, FinalizeRequest>);
static_assert(replies_with<coordinator_actor, LifecycleReply, reset_atom>);
static_assert(!accepts<coordinator_actor, call_atom, ModifierCall>, "a modifier call is not for the coordinator");
static_assert(!accepts<coordinator_actor, event_atom, FinalizeRequest>, "each atom takes its own request");
static_assert(!accepts<coordinator_actor, event_atom>, "an event needs its request");
static_assert(!accepts<coordinator_actor, reset_atom, EventRequest>, "reset takes no request");

static_assert(replies_with<modifier_actor, ModifierReply, call_atom, ModifierCall>);
static_assert(!accepts<modifier_actor, event_atom, EventRequest>, "modifier actors take modifier calls only");
static_assert(!accepts<modifier_actor, initialize_atom, InitializeRequest>);

template <class Handle>
std::string name_of(const Handle& handle) {
  auto* actor = dynamic_cast<caf::monitorable_actor*>(caf::actor_cast<caf::abstract_actor*>(handle));
  return actor ? actor->name() : "(not a monitorable actor)";
}

TEST(ActorInterfaces, SpawnedActorsKeepTheirNames) {
  testing::DeterministicActorSystem actor_system;
  auto log = std::make_shared<testing::CallLog>();
  auto registry = testing::recording_registry(log);
  coordinator_actor coordinator_handle = actor_system.system().spawn(coordinator, &registry);
  modifier_actor modifier_handle = actor_system.system().spawn(
      modifier_host, std::make_shared<testing::RecordingModifier>("a", log), std::make_shared<lifecycle::State>());
  actor_system.run();
  EXPECT_EQ(name_of(coordinator_handle), "dcomp.coordinator");
  EXPECT_EQ(name_of(modifier_handle), "dcomp.modifier");
  caf::anon_send_exit(coordinator_handle, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(modifier_handle, caf::exit_reason::user_shutdown);
}

}  // namespace
}  // namespace dcomp::actors
