// CompressionLifecycle: initialize / event / finalize / reset semantics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "lifecycle/compression_lifecycle.hpp"
#include "recording_modifier.hpp"

namespace dcomp::lifecycle {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::CallLog;
using testing::RecordingModifier;

struct Fixture : ::testing::Test {
  std::shared_ptr<CallLog> log = std::make_shared<CallLog>();
  ModifierRegistry registry = testing::recording_registry(log);
  CompressionLifecycle lifecycle{registry};

  std::vector<ModifierPtr> two_modifiers() {
    return {std::make_shared<RecordingModifier>("a", log), std::make_shared<RecordingModifier>("b", log)};
  }
};

TEST_F(Fixture, InitializeCallsModifiersInRecipeOrderAndCollectsResults) {
  auto results = lifecycle.initialize(two_modifiers());
  EXPECT_THAT(log->entries(), ElementsAre("a:on_initialize", "b:on_initialize"));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0]["id"], "a");
  EXPECT_EQ(results[1]["id"], "b");
  EXPECT_TRUE(lifecycle.initialized());
}

TEST_F(Fixture, InitializeWithoutRecipeGivesAnEmptyRecipe) {
  EXPECT_TRUE(lifecycle.initialize().empty());
  EXPECT_TRUE(lifecycle.recipe().modifiers().empty());
  EXPECT_TRUE(lifecycle.initialized());
  EXPECT_TRUE(lifecycle.event(EventType::CALIBRATION_START).empty());
}

TEST_F(Fixture, InitializeTwiceDoesNotReinitializeButUpdatesState) {
  lifecycle.initialize(two_modifiers());
  log->clear();
  Hardware hardware;
  hardware.rank = 3;
  hardware.world_size = 4;
  auto results = lifecycle.initialize(two_modifiers(), std::nullopt, std::nullopt, {{"hardware", hardware}});
  EXPECT_TRUE(results.empty());
  EXPECT_TRUE(log->entries().empty()) << "modifiers must not be initialized again";
  EXPECT_EQ(lifecycle.recipe().modifiers().size(), 2u);
  EXPECT_EQ(lifecycle.state().hardware.rank, 3);
  EXPECT_EQ(lifecycle.state().hardware.world_size, 4);
}

TEST_F(Fixture, EventsReachEveryModifierInOrder) {
  lifecycle.initialize(two_modifiers());
  log->clear();
  auto results = lifecycle.event(EventType::CALIBRATION_START);
  lifecycle.event(EventType::SEQUENTIAL_EPOCH_END);
  lifecycle.event(EventType::CALIBRATION_END);
  EXPECT_THAT(log->entries(),
              ElementsAre("a:on_event(CALIBRATION_START)", "a:on_calibration_start", "b:on_event(CALIBRATION_START)",
                          "b:on_calibration_start", "a:on_event(SEQUENTIAL_EPOCH_END)", "a:on_sequential_epoch_end",
                          "b:on_event(SEQUENTIAL_EPOCH_END)", "b:on_sequential_epoch_end",
                          "a:on_event(CALIBRATION_END)", "a:on_calibration_end", "b:on_event(CALIBRATION_END)",
                          "b:on_calibration_end"));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0]["saw"], "CALIBRATION_START");
}

TEST_F(Fixture, EventErrorsAreRaisedAndNothingIsDispatched) {
  EXPECT_THROW(lifecycle.event(EventType::BATCH_START), LifecycleError);
  lifecycle.initialize(two_modifiers());
  log->clear();
  EXPECT_THROW(lifecycle.event(EventType::INITIALIZE), LifecycleError);
  EXPECT_THROW(lifecycle.event(EventType::FINALIZE), LifecycleError);
  EXPECT_THROW(lifecycle.event(EventType::OPTIM_POST_STEP), LifecycleError);  // after initial BATCH_END
  EXPECT_TRUE(log->entries().empty());
  lifecycle.event(EventType::BATCH_START);
  EXPECT_THROW(lifecycle.event(EventType::LOSS_CALCULATED), LifecycleError);
  lifecycle.event(EventType::LOSS_CALCULATED, 0, {{"loss", 0.25}});
}

TEST_F(Fixture, FinalizeOnceThenEventsAndFinalizeFail) {
  EXPECT_THROW(lifecycle.finalize(), LifecycleError);
  lifecycle.initialize(two_modifiers());
  log->clear();
  lifecycle.finalize();
  EXPECT_THAT(log->entries(), ElementsAre("a:on_finalize", "b:on_finalize"));
  EXPECT_TRUE(lifecycle.finalized());
  try {
    lifecycle.finalize();
    FAIL();
  } catch (const LifecycleError& e) {
    EXPECT_STREQ(e.what(), "Cannot finalize more than once");
  }
  EXPECT_THROW(lifecycle.event(EventType::CALIBRATION_START), LifecycleError);
}

TEST_F(Fixture, ResetFinalizesOnlyInitializedUnfinalizedModifiersAndSwallowsErrors) {
  auto a = std::make_shared<RecordingModifier>("a", log);
  auto b = std::make_shared<RecordingModifier>("b", log);
  auto c = std::make_shared<RecordingModifier>("c", log);
  b->throw_on = "on_finalize";
  lifecycle.initialize(std::vector<ModifierPtr>{a, b, c});
  State scratch;
  c->finalize(scratch, {});  // c is already finalized
  log->clear();
  // Capture the warnings reset logs: exactly one, for b (c must not be finalized again).
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured)));
  EXPECT_NO_THROW(lifecycle.reset());
  spdlog::set_default_logger(previous);
  const std::string warnings = captured.str();
  EXPECT_NE(warnings.find("boom in on_finalize"), std::string::npos) << warnings;
  size_t count = 0;
  for (size_t at = warnings.find("Exception during finalizing"); at != std::string::npos;
       at = warnings.find("Exception during finalizing", at + 1))
    ++count;
  EXPECT_EQ(count, 1u) << warnings;
  EXPECT_THAT(log->entries(), ElementsAre("a:on_finalize", "b:on_finalize"));
  EXPECT_TRUE(a->finalized());
  EXPECT_FALSE(b->finalized());
  // A fresh lifecycle: not initialized, empty recipe, fresh state, events refused.
  EXPECT_FALSE(lifecycle.initialized());
  EXPECT_FALSE(lifecycle.finalized());
  EXPECT_TRUE(lifecycle.recipe().modifiers().empty());
  EXPECT_EQ(lifecycle.rules().last_event_type(), EventType::BATCH_END);
  EXPECT_THROW(lifecycle.event(EventType::CALIBRATION_START), LifecycleError);
  EXPECT_NO_THROW(lifecycle.initialize(two_modifiers()));
}

TEST_F(Fixture, ResetSkipsModifiersThatWereNeverInitialized) {
  auto a = std::make_shared<RecordingModifier>("a", log);
  auto b = std::make_shared<RecordingModifier>("b", log);
  b->throw_on = "on_initialize";
  EXPECT_THROW(lifecycle.initialize(std::vector<ModifierPtr>{a, b}), std::runtime_error);
  EXPECT_FALSE(lifecycle.initialized());
  log->clear();
  lifecycle.reset();
  EXPECT_THAT(log->entries(), ElementsAre("a:on_finalize"));
}

TEST_F(Fixture, InitializeFromRecipeText) {
  auto results = lifecycle.initialize(std::string(R"(
test_stage:
  first_modifiers:
    RecordingModifier: {id: x}
    OtherModifier: {id: y}
)"));
  ASSERT_EQ(lifecycle.recipe().modifiers().size(), 2u);
  EXPECT_EQ(lifecycle.recipe().modifiers()[1]->class_name(), "OtherModifier");
  EXPECT_THAT(log->entries(), ElementsAre("x:on_initialize", "y:on_initialize"));
}

TEST_F(Fixture, RecipeArgsAreStored) {
  lifecycle.initialize(std::string(), std::nullopt, YAML::Load("{alpha: 2}"));
  EXPECT_EQ(lifecycle.recipe().args()["alpha"].as<int>(), 2);
}

}  // namespace
}  // namespace dcomp::lifecycle
