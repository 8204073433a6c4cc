// A modifier that throws, on the deterministic test coordinator: its actor
// answers with an error naming the modifier and the call, the coordinator
// passes that error back to the caller without calling the modifiers after
// it, and keeps answering the calls that follow.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "actors/modifier_host.hpp"
#include "tests/actors/deterministic_coordinator_fixture.hpp"

namespace dcomp::testing {
namespace {

using ::testing::ElementsAre;
using actors::lifecycle_errc;
using actors::ModifierCall;
using lifecycle::EventType;

std::shared_ptr<RecordingModifier> throwing_modifier(const std::string& id, std::shared_ptr<CallLog> log,
                                                     const std::string& hook) {
  auto modifier = std::make_shared<RecordingModifier>(id, std::move(log), "ThrowingModifier");
  modifier->throw_on = hook;
  return modifier;
}

ModifierCall event_call(EventType type) {
  ModifierCall call{ModifierCall::Kind::Event, {}, {}};
  call.event.type = type;
  return call;
}

TEST(ModifierActorProtocol, ThrowingModifierRepliesWithAnErrorNamingItAndTheCall) {
  DeterministicActorSystem actor_system;
  auto log = std::make_shared<CallLog>();
  auto state = std::make_shared<lifecycle::State>();
  auto host = actor_system.system().spawn(actors::modifier_host,
                                          throwing_modifier("t", log, "on_sequential_epoch_end"), state);
  actor_system.request<actors::ModifierReply>("initialize", host, actors::call_atom::value,
                                              ModifierCall{ModifierCall::Kind::Initialize, {}, {}});
  actor_system.request<actors::ModifierReply>("throwing event", host, actors::call_atom::value,
                                              event_call(EventType::SEQUENTIAL_EPOCH_END));
  actor_system.request<actors::ModifierReply>("next event", host, actors::call_atom::value,
                                              event_call(EventType::CALIBRATION_END));
  actor_system.run();
  ASSERT_EQ(actor_system.replies().size(), 3u);
  const auto& initialize = actor_system.replies()[0];
  ASSERT_TRUE(initialize.ok()) << initialize.error_message;
  EXPECT_EQ((*initialize.results)[0]["modifier"], "ThrowingModifier");
  const auto& failed = actor_system.replies()[1];
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.error_code, lifecycle_errc::modifier_failed);
  EXPECT_EQ(failed.error_message,
            "ThrowingModifier failed on event SEQUENTIAL_EPOCH_END: boom in on_sequential_epoch_end");
  EXPECT_TRUE(actor_system.replies()[2].ok()) << actor_system.replies()[2].error_message;
  caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
}

using CoordinatorModifierFailure = DeterministicCoordinatorTest;

TEST_F(CoordinatorModifierFailure, ErrorReplyNamesTheModifierAndLaterModifiersAreSkipped) {
  initialize("initialize", {std::make_shared<RecordingModifier>("a", log),
                            throwing_modifier("t", log, "on_sequential_epoch_end"),
                            std::make_shared<RecordingModifier>("c", log)});
  event("throwing event", EventType::SEQUENTIAL_EPOCH_END);
  actor_system.run();
  ASSERT_TRUE(reply("initialize").ok());
  const auto failed = reply("throwing event");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.error_code, lifecycle_errc::modifier_failed);
  EXPECT_EQ(failed.error_message,
            "ThrowingModifier failed on event SEQUENTIAL_EPOCH_END: boom in on_sequential_epoch_end");
  EXPECT_THAT(log->entries(), ElementsAre("a:on_initialize", "t:on_initialize", "c:on_initialize",
                                          "a:on_event(SEQUENTIAL_EPOCH_END)", "a:on_sequential_epoch_end",
                                          "t:on_event(SEQUENTIAL_EPOCH_END)", "t:on_sequential_epoch_end"));
}

TEST_F(CoordinatorModifierFailure, CoordinatorKeepsAnsweringAfterAFailure) {
  initialize("initialize", {std::make_shared<RecordingModifier>("a", log),
                            throwing_modifier("t", log, "on_sequential_epoch_end")});
  event("throwing event", EventType::SEQUENTIAL_EPOCH_END);
  event("calibration end", EventType::CALIBRATION_END);
  finalize("finalize");
  event("event after finalize", EventType::CALIBRATION_END);
  actor_system.run();
  EXPECT_THAT(reply_order(),
              ElementsAre("initialize", "throwing event", "calibration end", "finalize", "event after finalize"));
  EXPECT_EQ(reply("throwing event").error_code, lifecycle_errc::modifier_failed);
  EXPECT_TRUE(reply("calibration end").ok()) << reply("calibration end").error_message;
  EXPECT_TRUE(reply("finalize").ok()) << reply("finalize").error_message;
  EXPECT_EQ(reply("event after finalize").error_message, "Cannot invoke event after finalizing");
  auto entries = log->entries();
  EXPECT_EQ(std::count(entries.begin(), entries.end(), "t:on_calibration_end"), 1);
  EXPECT_EQ(std::count(entries.begin(), entries.end(), "t:on_finalize"), 1);
}

TEST_F(CoordinatorModifierFailure, ThrowingInitializeLeavesTheLifecycleUninitialized) {
  initialize("initialize",
             {std::make_shared<RecordingModifier>("a", log), throwing_modifier("t", log, "on_initialize")});
  event("event", EventType::CALIBRATION_START);
  actor_system.run();
  const auto failed = reply("initialize");
  EXPECT_EQ(failed.error_code, lifecycle_errc::modifier_failed);
  EXPECT_EQ(failed.error_message, "ThrowingModifier failed on initialize: boom in on_initialize");
  EXPECT_EQ(reply("event").error_message, "Cannot invoke event before initializing");
}

}  // namespace
}  // namespace dcomp::testing
