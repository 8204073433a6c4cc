// Calls that reach the coordinator before it has processed any of them are
// handled one at a time in arrival order, on the deterministic test
// coordinator: each call is fanned out to every modifier, in recipe order,
// before the next call starts, and the replies come back in the same order.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/actors/deterministic_coordinator_fixture.hpp"

namespace dcomp::testing {
namespace {

using ::testing::ElementsAre;
using lifecycle::EventType;

using CoordinatorArrivalOrder = DeterministicCoordinatorTest;

TEST_F(CoordinatorArrivalOrder, TwoCallsSentBeforeEitherIsProcessedRunInArrivalOrder) {
  initialized_with({"a", "b", "c"});
  event("first", EventType::CALIBRATION_START);
  event("second", EventType::SEQUENTIAL_EPOCH_END);
  // Run the two callers only: both requests now wait in the coordinator's mailbox.
  actor_system.scheduler().run_once();
  actor_system.scheduler().run_once();
  EXPECT_TRUE(log->entries().empty());
  EXPECT_EQ(actor_system.replies().size(), 1u);  // the initialize reply only
  actor_system.run();
  EXPECT_THAT(reply_order(), ElementsAre("initialize", "first", "second"));
  EXPECT_TRUE(reply("first").ok());
  EXPECT_TRUE(reply("second").ok());
  EXPECT_THAT(log->entries(),
              ElementsAre("a:on_event(CALIBRATION_START)", "a:on_calibration_start", "b:on_event(CALIBRATION_START)",
                          "b:on_calibration_start", "c:on_event(CALIBRATION_START)", "c:on_calibration_start",
                          "a:on_event(SEQUENTIAL_EPOCH_END)", "a:on_sequential_epoch_end",
                          "b:on_event(SEQUENTIAL_EPOCH_END)", "b:on_sequential_epoch_end",
                          "c:on_event(SEQUENTIAL_EPOCH_END)", "c:on_sequential_epoch_end"));
}

TEST_F(CoordinatorArrivalOrder, RepliesCarryEachModifierResultInRecipeOrder) {
  initialized_with({"a", "b"});
  event("first", EventType::CALIBRATION_START);
  event("second", EventType::SEQUENTIAL_EPOCH_END);
  actor_system.run();
  const std::vector<std::pair<std::string, std::string>> expected = {{"first", "CALIBRATION_START"},
                                                                      {"second", "SEQUENTIAL_EPOCH_END"}};
  for (const auto& [label, event_name] : expected) {
    auto observed = reply(label);
    ASSERT_TRUE(observed.ok()) << observed.error_message;
    ASSERT_EQ(observed.results->size(), 2u);
    EXPECT_EQ((*observed.results)[0]["saw"], event_name);
    EXPECT_EQ((*observed.results)[1]["saw"], event_name);
  }
}

// The same two calls, sent in the two possible orders: the order of arrival
// alone decides which one the rules refuse.
TEST_F(CoordinatorArrivalOrder, EventThenFinalizeBothSucceed) {
  initialized_with({"a"});
  event("event", EventType::CALIBRATION_START);
  finalize("finalize");
  actor_system.run();
  EXPECT_THAT(reply_order(), ElementsAre("initialize", "event", "finalize"));
  EXPECT_TRUE(reply("event").ok());
  EXPECT_TRUE(reply("finalize").ok());
  EXPECT_THAT(log->entries(), ElementsAre("a:on_event(CALIBRATION_START)", "a:on_calibration_start", "a:on_finalize"));
}

TEST_F(CoordinatorArrivalOrder, FinalizeThenEventRefusesTheEvent) {
  initialized_with({"a"});
  finalize("finalize");
  event("event", EventType::CALIBRATION_START);
  actor_system.run();
  EXPECT_THAT(reply_order(), ElementsAre("initialize", "finalize", "event"));
  EXPECT_TRUE(reply("finalize").ok());
  EXPECT_FALSE(reply("event").ok());
  EXPECT_EQ(reply("event").error_message, "Cannot invoke event after finalizing");
  EXPECT_THAT(log->entries(), ElementsAre("a:on_finalize"));
}

TEST_F(CoordinatorArrivalOrder, ResetQueuedBehindAnEventWaitsForIt) {
  initialized_with({"a", "b"});
  event("event", EventType::CALIBRATION_START);
  reset("reset");
  event("event after reset", EventType::CALIBRATION_START);
  actor_system.run();
  EXPECT_THAT(reply_order(), ElementsAre("initialize", "event", "reset", "event after reset"));
  EXPECT_TRUE(reply("reset").ok());
  EXPECT_EQ(reply("event after reset").error_message, "Cannot invoke event before initializing");
  EXPECT_THAT(log->entries(), ElementsAre("a:on_event(CALIBRATION_START)", "a:on_calibration_start",
                                          "b:on_event(CALIBRATION_START)", "b:on_calibration_start", "a:on_finalize",
                                          "b:on_finalize"));
}

}  // namespace
}  // namespace dcomp::testing
