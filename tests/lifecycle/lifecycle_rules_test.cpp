// The event-order rule and the event() preconditions, table-driven. Expected
// outcomes were worked out by hand from the rule in
// llm-compressor core/lifecycle.py::_validate_event_order.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lifecycle/errors.hpp"
#include "lifecycle/lifecycle_rules.hpp"

namespace dcomp::lifecycle {
namespace {

using ::testing::HasSubstr;
using E = EventType;

struct OrderCase {
  const char* name;
  std::vector<E> sequence;
  int first_invalid;  // index of the first rejected event, -1 when all valid
};

class EventOrderTest : public ::testing::TestWithParam<OrderCase> {};

TEST_P(EventOrderTest, FirstInvalidEventIsTheExpectedOne) {
  const OrderCase& c = GetParam();
  LifecycleRules rules;
  int first_invalid = -1;
  for (size_t i = 0; i < c.sequence.size(); ++i) {
    if (!rules.validate_event_order(c.sequence[i])) {
      first_invalid = static_cast<int>(i);
      break;
    }
  }
  EXPECT_EQ(first_invalid, c.first_invalid) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Sequences, EventOrderTest,
    ::testing::Values(
        OrderCase{"full batch", {E::BATCH_START, E::LOSS_CALCULATED, E::OPTIM_PRE_STEP, E::OPTIM_POST_STEP, E::BATCH_END}, -1},
        OrderCase{"two full batches",
                  {E::BATCH_START, E::LOSS_CALCULATED, E::BATCH_END, E::BATCH_START, E::OPTIM_PRE_STEP, E::BATCH_END},
                  -1},
        OrderCase{"batch start twice in a row", {E::BATCH_START, E::BATCH_START}, 1},
        OrderCase{"initial state is BATCH_END so OPTIM_PRE_STEP first is invalid", {E::OPTIM_PRE_STEP}, 0},
        OrderCase{"loss first is invalid", {E::LOSS_CALCULATED}, 0},
        OrderCase{"BATCH_END first is valid (4 <= 4)", {E::BATCH_END, E::BATCH_END}, -1},
        OrderCase{"repeating a mid-batch event is valid", {E::BATCH_START, E::LOSS_CALCULATED, E::LOSS_CALCULATED}, -1},
        OrderCase{"moving backwards within a batch", {E::BATCH_START, E::OPTIM_POST_STEP, E::OPTIM_PRE_STEP}, 2},
        OrderCase{"after BATCH_END only BATCH_END or BATCH_START", {E::BATCH_START, E::BATCH_END, E::LOSS_CALCULATED}, 2},
        OrderCase{"BATCH_START is valid mid-batch", {E::BATCH_START, E::LOSS_CALCULATED, E::BATCH_START}, -1},
        OrderCase{"calibration events are never checked",
                  {E::CALIBRATION_START, E::CALIBRATION_END, E::SEQUENTIAL_EPOCH_END, E::CALIBRATION_START}, -1},
        OrderCase{"calibration events do not move the tracked state",
                  {E::BATCH_START, E::CALIBRATION_END, E::BATCH_START}, 2},
        OrderCase{"calibration event between batch events keeps order",
                  {E::BATCH_START, E::OPTIM_POST_STEP, E::SEQUENTIAL_EPOCH_END, E::LOSS_CALCULATED}, 3}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

TEST(LifecycleRules, EventBeforeInitializeIsRejected) {
  LifecycleRules rules;
  try {
    rules.admit_event(E::BATCH_START, 0, {});
    FAIL() << "expected LifecycleError";
  } catch (const LifecycleError& e) {
    EXPECT_STREQ(e.what(), "Cannot invoke event before initializing");
  }
}

TEST(LifecycleRules, EventAfterFinalizeIsRejected) {
  LifecycleRules rules;
  rules.mark_initialized();
  rules.mark_finalized();
  EXPECT_THROW(
      {
        try {
          rules.admit_event(E::CALIBRATION_START, 0, {});
        } catch (const LifecycleError& e) {
          EXPECT_STREQ(e.what(), "Cannot invoke event after finalizing");
          throw;
        }
      },
      LifecycleError);
}

TEST(LifecycleRules, InitializeAndFinalizeAreNotEvents) {
  for (E type : {E::INITIALIZE, E::FINALIZE}) {
    LifecycleRules rules;
    rules.mark_initialized();
    try {
      rules.admit_event(type, 0, {});
      FAIL() << "expected LifecycleError";
    } catch (const LifecycleError& e) {
      EXPECT_THAT(e.what(), HasSubstr("Cannot invoke " + event_repr(type) + " event. Use the corresponding method instead."));
    }
  }
}

TEST(LifecycleRules, OrderViolationNamesTheOrderAndThePair) {
  LifecycleRules rules;
  rules.mark_initialized();
  rules.admit_event(E::BATCH_START, 0, {});
  try {
    rules.admit_event(E::BATCH_START, 0, {});
    FAIL() << "expected LifecycleError";
  } catch (const LifecycleError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Lifecycle events must appear following order: [EventType.BATCH_START, "
                                    "EventType.LOSS_CALCULATED, EventType.OPTIM_PRE_STEP, EventType.OPTIM_POST_STEP, "
                                    "EventType.BATCH_END]"));
    EXPECT_THAT(e.what(), HasSubstr("Instead, EventType.BATCH_START was called before EventType.BATCH_START"));
  }
}

TEST(LifecycleRules, LossCalculatedNeedsALoss) {
  LifecycleRules rules;
  rules.mark_initialized();
  rules.admit_event(E::BATCH_START, 0, {});
  try {
    rules.admit_event(E::LOSS_CALCULATED, 0, {});
    FAIL() << "expected LifecycleError";
  } catch (const LifecycleError& e) {
    EXPECT_STREQ(e.what(), "Loss must be provided for loss calculated event");
  }
  Kwargs with_empty_loss{{"loss", std::any{}}};
  EXPECT_THROW(rules.admit_event(E::LOSS_CALCULATED, 0, with_empty_loss), LifecycleError);
  Kwargs with_loss{{"loss", 1.5}};
  EXPECT_NO_THROW(rules.admit_event(E::LOSS_CALCULATED, 0, with_loss));
}

TEST(LifecycleRules, ChecksRunInTheUpstreamOrder) {
  // Not initialized wins over a bad event type; finalized wins over order.
  LifecycleRules fresh;
  EXPECT_THROW(
      {
        try {
          fresh.admit_event(E::INITIALIZE, 0, {});
        } catch (const LifecycleError& e) {
          EXPECT_STREQ(e.what(), "Cannot invoke event before initializing");
          throw;
        }
      },
      LifecycleError);
  LifecycleRules done;
  done.mark_initialized();
  done.mark_finalized();
  try {
    done.admit_event(E::OPTIM_PRE_STEP, 0, {});
    FAIL();
  } catch (const LifecycleError& e) {
    EXPECT_STREQ(e.what(), "Cannot invoke event after finalizing");
  }
}

TEST(LifecycleRules, GlobalStepIsUpdatedOnlyWhenGiven) {
  LifecycleRules rules;
  rules.mark_initialized();
  rules.admit_event(E::CALIBRATION_START, 7, {});
  EXPECT_EQ(rules.global_step(), 7);
  rules.admit_event(E::CALIBRATION_START, std::nullopt, {});
  EXPECT_EQ(rules.global_step(), 7);
  rules.admit_event(E::CALIBRATION_START, 0, {});
  EXPECT_EQ(rules.global_step(), 0);
}

TEST(LifecycleRules, FinalizeRules) {
  LifecycleRules rules;
  try {
    rules.check_finalize();
    FAIL();
  } catch (const LifecycleError& e) {
    EXPECT_STREQ(e.what(), "Cannot finalize before initializing");
  }
  rules.mark_initialized();
  EXPECT_NO_THROW(rules.check_finalize());
  rules.mark_finalized();
  try {
    rules.check_finalize();
    FAIL();
  } catch (const LifecycleError& e) {
    EXPECT_STREQ(e.what(), "Cannot finalize more than once");
  }
}

}  // namespace
}  // namespace dcomp::lifecycle
