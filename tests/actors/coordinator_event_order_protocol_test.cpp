// The lifecycle's event order rules, as the coordinator actor answers them on
// the deterministic test coordinator: every refused call is an error reply
// (lifecycle_errc::rule_violation) carrying the lifecycle's message, and no
// refused call reaches a modifier. The expected messages are the rules as
// lifecycle/lifecycle_rules.hpp documents them.
// reference: llm-compressor src/llmcompressor/core/lifecycle.py (CompressionLifecycle)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/actors/deterministic_coordinator_fixture.hpp"

namespace dcomp::testing {
namespace {

using ::testing::ElementsAre;
using actors::lifecycle_errc;
using lifecycle::EventType;

constexpr const char* kBatchOrder =
    "Lifecycle events must appear following order: [EventType.BATCH_START, EventType.LOSS_CALCULATED, "
    "EventType.OPTIM_PRE_STEP, EventType.OPTIM_POST_STEP, EventType.BATCH_END]. ";

void expect_refused(const ObservedReply& reply, const std::string& message) {
  EXPECT_FALSE(reply.ok()) << reply.label << " was accepted";
  EXPECT_EQ(reply.error_code, lifecycle_errc::rule_violation) << reply.label;
  EXPECT_EQ(reply.error_message, message) << reply.label;
}

using CoordinatorEventOrderProtocol = DeterministicCoordinatorTest;

TEST_F(CoordinatorEventOrderProtocol, EventAndFinalizeBeforeInitializeAreRefused) {
  event("event", EventType::CALIBRATION_START);
  finalize("finalize");
  actor_system.run();
  expect_refused(reply("event"), "Cannot invoke event before initializing");
  expect_refused(reply("finalize"), "Cannot finalize before initializing");
  EXPECT_TRUE(log->entries().empty());
}

TEST_F(CoordinatorEventOrderProtocol, EventAndFinalizeAfterFinalizeAreRefused) {
  initialized_with({"a"});
  finalize("finalize");
  event("late event", EventType::CALIBRATION_END);
  finalize("second finalize");
  actor_system.run();
  EXPECT_TRUE(reply("finalize").ok());
  expect_refused(reply("late event"), "Cannot invoke event after finalizing");
  expect_refused(reply("second finalize"), "Cannot finalize more than once");
  EXPECT_THAT(log->entries(), ElementsAre("a:on_finalize"));
}

TEST_F(CoordinatorEventOrderProtocol, InitializeAndFinalizeEventTypesAreRefused) {
  initialized_with({"a"});
  event("INITIALIZE", EventType::INITIALIZE);
  event("FINALIZE", EventType::FINALIZE);
  actor_system.run();
  expect_refused(reply("INITIALIZE"),
                 "Cannot invoke EventType.INITIALIZE event. Use the corresponding method instead.");
  expect_refused(reply("FINALIZE"), "Cannot invoke EventType.FINALIZE event. Use the corresponding method instead.");
  EXPECT_TRUE(log->entries().empty());
}

TEST_F(CoordinatorEventOrderProtocol, BatchEventsMayNotMoveBackwards) {
  initialized_with({"a"});
  event("optim step first", EventType::OPTIM_PRE_STEP);  // the last tracked event starts as BATCH_END
  event("batch start", EventType::BATCH_START);
  event("batch start again", EventType::BATCH_START);
  event("loss", EventType::LOSS_CALCULATED, {{"loss", 1.0}});
  event("batch start after loss", EventType::BATCH_START);
  event("batch end", EventType::BATCH_END);
  event("loss after batch end", EventType::LOSS_CALCULATED, {{"loss", 1.0}});
  event("next batch start", EventType::BATCH_START);
  actor_system.run();
  expect_refused(reply("optim step first"),
                 std::string(kBatchOrder) + "Instead, EventType.BATCH_END was called before EventType.OPTIM_PRE_STEP");
  EXPECT_TRUE(reply("batch start").ok());
  expect_refused(reply("batch start again"),
                 std::string(kBatchOrder) + "Instead, EventType.BATCH_START was called before EventType.BATCH_START");
  EXPECT_TRUE(reply("loss").ok());
  EXPECT_TRUE(reply("batch start after loss").ok());  // BATCH_START is valid after anything but BATCH_START
  EXPECT_TRUE(reply("batch end").ok());
  expect_refused(reply("loss after batch end"), std::string(kBatchOrder) +
                                                    "Instead, EventType.BATCH_END was called before "
                                                    "EventType.LOSS_CALCULATED");
  EXPECT_TRUE(reply("next batch start").ok());
  // Only the accepted events reached the modifier.
  std::vector<std::string> seen;
  for (const auto& entry : log->entries()) {
    if (entry.rfind("a:on_event(", 0) == 0) seen.push_back(entry);
  }
  EXPECT_THAT(seen, ElementsAre("a:on_event(BATCH_START)", "a:on_event(LOSS_CALCULATED)", "a:on_event(BATCH_START)",
                                "a:on_event(BATCH_END)", "a:on_event(BATCH_START)"));
}

TEST_F(CoordinatorEventOrderProtocol, LossCalculatedNeedsALoss) {
  initialized_with({"a"});
  event("batch start", EventType::BATCH_START);
  event("loss without loss", EventType::LOSS_CALCULATED);
  actor_system.run();
  EXPECT_TRUE(reply("batch start").ok());
  expect_refused(reply("loss without loss"), "Loss must be provided for loss calculated event");
}

// Calls queued behind an initialize still in flight are judged by the rules as
// they stand once that initialize has finished, one after another.
TEST_F(CoordinatorEventOrderProtocol, QueuedCallsAreJudgedInArrivalOrder) {
  event("event before initialize", EventType::CALIBRATION_START);
  initialize("initialize", recording_modifiers({"a", "b"}));
  event("calibration start", EventType::CALIBRATION_START);
  finalize("finalize");
  event("event after finalize", EventType::CALIBRATION_END);
  actor_system.run();
  EXPECT_THAT(reply_order(), ElementsAre("event before initialize", "initialize", "calibration start", "finalize",
                                         "event after finalize"));
  expect_refused(reply("event before initialize"), "Cannot invoke event before initializing");
  EXPECT_TRUE(reply("initialize").ok());
  EXPECT_TRUE(reply("calibration start").ok());
  EXPECT_TRUE(reply("finalize").ok());
  expect_refused(reply("event after finalize"), "Cannot invoke event after finalizing");
  EXPECT_THAT(log->entries(), ElementsAre("a:on_initialize", "b:on_initialize", "a:on_event(CALIBRATION_START)",
                                          "a:on_calibration_start", "b:on_event(CALIBRATION_START)",
                                          "b:on_calibration_start", "a:on_finalize", "b:on_finalize"));
}

}  // namespace
}  // namespace dcomp::testing
