// Modifier: its own state rules and start/end/update scheduling.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lifecycle/errors.hpp"
#include "recording_modifier.hpp"

namespace dcomp::lifecycle {
namespace {

using ::testing::ElementsAre;
using testing::CallLog;
using testing::RecordingModifier;

Event batch_event(EventType type, int64_t step) {
  Event event;
  event.type = type;
  event.global_step = step;
  return event;
}

TEST(Modifier, StateRules) {
  auto log = std::make_shared<CallLog>();
  RecordingModifier m("m", log);
  State state;
  EXPECT_THROW(m.update_event(state, batch_event(EventType::BATCH_START, 0), {}), LifecycleError);
  EXPECT_THROW(m.finalize(state, {}), LifecycleError);
  m.initialize(state, {});
  EXPECT_TRUE(m.initialized());
  EXPECT_THROW(m.initialize(state, {}), LifecycleError);
  m.finalize(state, {});
  EXPECT_TRUE(m.finalized());
  EXPECT_THROW(m.finalize(state, {}), LifecycleError);
  EXPECT_THROW(m.update_event(state, batch_event(EventType::BATCH_START, 0), {}), LifecycleError);
}

TEST(Modifier, InitializedReflectsOnInitializeResult) {
  auto log = std::make_shared<CallLog>();
  RecordingModifier m("m", log);
  m.initialize_result = false;
  State state;
  m.initialize(state, {});
  EXPECT_FALSE(m.initialized());
}

TEST(Modifier, StartAtZeroStartsDuringInitialize) {
  auto log = std::make_shared<CallLog>();
  RecordingModifier m("m", log);
  m.start = 0;
  State state;
  m.initialize(state, {});
  EXPECT_TRUE(m.started());
  EXPECT_THAT(log->entries(), ElementsAre("m:on_initialize", "m:on_start"));
}

TEST(Modifier, BatchSchedulingFollowsStartAndEnd) {
  auto log = std::make_shared<CallLog>();
  RecordingModifier m("m", log);
  m.start = 2;
  m.end = 4;
  State state;
  m.initialize(state, {});
  EXPECT_FALSE(m.started());
  log->clear();
  m.update_event(state, batch_event(EventType::BATCH_START, 1), {});  // before start: no update
  m.update_event(state, batch_event(EventType::BATCH_START, 2), {});  // starts, then updates
  m.update_event(state, batch_event(EventType::OPTIM_PRE_STEP, 3), {});  // running: update
  m.update_event(state, batch_event(EventType::BATCH_END, 3), {});    // 3 < end: update only
  m.update_event(state, batch_event(EventType::BATCH_END, 4), {});    // reaches end
  m.update_event(state, batch_event(EventType::BATCH_START, 5), {});  // ended: nothing
  EXPECT_THAT(log->entries(),
              ElementsAre("m:on_event(BATCH_START)", "m:on_event(BATCH_START)", "m:on_start", "m:on_update",
                          "m:on_event(OPTIM_PRE_STEP)", "m:on_update", "m:on_event(BATCH_END)", "m:on_update",
                          "m:on_event(BATCH_END)", "m:on_end", "m:on_update", "m:on_event(BATCH_START)"));
  EXPECT_TRUE(m.ended());
}

TEST(Modifier, CalibrationEventsSetStartedAndEnded) {
  auto log = std::make_shared<CallLog>();
  RecordingModifier m("m", log);
  State state;
  m.initialize(state, {});
  m.update_event(state, batch_event(EventType::CALIBRATION_START, 0), {});
  EXPECT_TRUE(m.started());
  EXPECT_FALSE(m.ended());
  m.update_event(state, batch_event(EventType::CALIBRATION_END, 0), {});
  EXPECT_TRUE(m.ended());
}

TEST(Modifier, ShouldStartAndShouldEnd) {
  auto log = std::make_shared<CallLog>();
  RecordingModifier m("m", log);
  Event e = batch_event(EventType::BATCH_START, 5);
  EXPECT_FALSE(m.should_start(e));  // start unset
  EXPECT_FALSE(m.should_end(e));    // end unset
  m.start = 5;
  EXPECT_TRUE(m.should_start(e));
  m.end = 5;
  EXPECT_FALSE(m.should_start(e));  // current < end fails
  EXPECT_TRUE(m.should_end(e));
}

TEST(Event, StepArithmetic) {
  Event e;
  e.global_step = 7;
  EXPECT_DOUBLE_EQ(e.current_index(), 7.0);
  e.steps_per_epoch = 2;
  e.batches_per_step = 3;
  e.global_batch = 13;
  EXPECT_EQ(e.epoch(), 3);
  EXPECT_DOUBLE_EQ(e.epoch_full(), 3.5);
  EXPECT_EQ(e.epoch_step(), 1);
  EXPECT_EQ(e.epoch_batch(), 13 % 6);
  EXPECT_DOUBLE_EQ(e.current_index(), 3.5);
  e.set_current_index(4.5);
  EXPECT_EQ(e.global_step, 9);
  EXPECT_EQ(e.global_batch, 27);
}

TEST(Event, ShouldUpdate) {
  Event e;
  e.global_step = 6;
  EXPECT_TRUE(e.should_update(std::nullopt, std::nullopt, std::nullopt));
  EXPECT_FALSE(e.should_update(7.0, std::nullopt, std::nullopt));
  EXPECT_FALSE(e.should_update(std::nullopt, 5.0, std::nullopt));
  EXPECT_TRUE(e.should_update(0.0, 10.0, 3.0));
  EXPECT_FALSE(e.should_update(0.0, 10.0, 4.0));
  EXPECT_TRUE(e.should_update(0.0, 10.0, 0.0));
}

TEST(Event, NamesRoundTrip) {
  for (EventType type : kAllEventTypes) {
    EXPECT_EQ(parse_event_type(event_name(type)), type);
    EXPECT_EQ(parse_event_type(event_value(type)), type);
  }
  EXPECT_FALSE(parse_event_type("calibration_epoch_start").has_value());
}

}  // namespace
}  // namespace dcomp::lifecycle
