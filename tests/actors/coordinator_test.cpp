// The coordinator actor and modifier actors in a real CAF actor system: the
// same semantics as the plain CompressionLifecycle (used as the reference),
// error replies for every rule, throwing modifiers, concurrent callers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "actors/actor_errors.hpp"
#include "actors/actor_runtime.hpp"
#include "actors/lifecycle_client.hpp"
#include "lifecycle/compression_lifecycle.hpp"
#include "tests/lifecycle/recording_modifier.hpp"

namespace dcomp::actors {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using lifecycle::EventType;
using lifecycle::LifecycleError;
using lifecycle::ModifierPtr;
using testing::CallLog;
using testing::RecordingModifier;

struct CoordinatorTest : ::testing::Test {
  ActorRuntime runtime{2};
  std::shared_ptr<CallLog> log = std::make_shared<CallLog>();
  lifecycle::ModifierRegistry registry = testing::recording_registry(log);
  LifecycleClient client{runtime.system(), registry};

  InitializeRequest modifiers(std::vector<std::string> ids) {
    std::vector<ModifierPtr> list;
    for (auto& id : ids) list.push_back(std::make_shared<RecordingModifier>(id, log));
    return InitializeRequest{list, std::nullopt, std::nullopt, {}};
  }

  template <class Fn>
  std::string error_of(Fn&& fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(CoordinatorTest, DeliversInTheSameOrderAsThePlainLifecycle) {
  auto run = [](auto& target, auto init) {
    init();
    target.event(EventType::CALIBRATION_START);
    target.event(EventType::SEQUENTIAL_EPOCH_END);
    target.event(EventType::BATCH_START);
    target.event(EventType::LOSS_CALCULATED, 0, {{"loss", 1.0}});
    target.event(EventType::BATCH_END);
    target.event(EventType::CALIBRATION_END);
    target.finalize();
  };
  run(client, [&] { client.initialize(modifiers({"a", "b", "c"})); });
  auto via_actors = log->entries();
  log->clear();
  lifecycle::CompressionLifecycle reference(registry);
  run(reference, [&] {
    reference.initialize(std::vector<ModifierPtr>{std::make_shared<RecordingModifier>("a", log),
                                                  std::make_shared<RecordingModifier>("b", log),
                                                  std::make_shared<RecordingModifier>("c", log)});
  });
  EXPECT_EQ(via_actors, log->entries());
  // Per modifier: on_initialize, 6 events x (on_event + one hook; the batch events
  // reach on_update because CALIBRATION_START marked the modifier started), on_finalize.
  EXPECT_EQ(via_actors.size(), 3u * (1 + 6 * 2 + 1));
}

TEST_F(CoordinatorTest, RepliesCarryModifierResultsInRecipeOrder) {
  auto init = client.initialize(modifiers({"first", "second"}));
  ASSERT_EQ(init.size(), 2u);
  EXPECT_EQ(init[0]["id"], "first");
  EXPECT_EQ(init[0]["modifier"], "RecordingModifier");
  auto results = client.event(EventType::CALIBRATION_START);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1]["saw"], "CALIBRATION_START");
}

TEST_F(CoordinatorTest, EveryRuleBecomesAnErrorReply) {
  EXPECT_EQ(error_of([&] { client.event(EventType::BATCH_START); }), "Cannot invoke event before initializing");
  EXPECT_EQ(error_of([&] { client.finalize(); }), "Cannot finalize before initializing");
  client.initialize(modifiers({"a"}));
  EXPECT_THAT(error_of([&] { client.event(EventType::INITIALIZE); }),
              HasSubstr("Cannot invoke EventType.INITIALIZE event. Use the corresponding method instead."));
  EXPECT_THAT(error_of([&] { client.event(EventType::FINALIZE); }), HasSubstr("Cannot invoke EventType.FINALIZE"));
  EXPECT_THAT(error_of([&] { client.event(EventType::OPTIM_PRE_STEP); }),
              HasSubstr("Instead, EventType.BATCH_END was called before EventType.OPTIM_PRE_STEP"));
  client.event(EventType::BATCH_START);
  EXPECT_EQ(error_of([&] { client.event(EventType::LOSS_CALCULATED); }),
            "Loss must be provided for loss calculated event");
  client.finalize();
  EXPECT_EQ(error_of([&] { client.finalize(); }), "Cannot finalize more than once");
  EXPECT_EQ(error_of([&] { client.event(EventType::CALIBRATION_END); }), "Cannot invoke event after finalizing");
  // Errors arrive as the lifecycle's own exception type.
  EXPECT_THROW(client.event(EventType::CALIBRATION_END), LifecycleError);
}

TEST_F(CoordinatorTest, ThrowingModifierBecomesAnErrorNamingModifierAndEvent) {
  auto thrower = std::make_shared<RecordingModifier>("t", log, "ThrowingModifier");
  thrower->throw_on = "on_sequential_epoch_end";
  client.initialize(InitializeRequest{std::vector<ModifierPtr>{std::make_shared<RecordingModifier>("a", log), thrower,
                                                               std::make_shared<RecordingModifier>("c", log)},
                                      std::nullopt, std::nullopt, {}});
  try {
    client.event(EventType::SEQUENTIAL_EPOCH_END);
    FAIL() << "expected ModifierFailure";
  } catch (const ModifierFailure& e) {
    EXPECT_THAT(e.what(), HasSubstr("ThrowingModifier failed on event SEQUENTIAL_EPOCH_END"));
    EXPECT_THAT(e.what(), HasSubstr("boom in on_sequential_epoch_end"));
  }
  // Modifiers after the failing one were not called; the system keeps working.
  auto entries = log->entries();
  EXPECT_EQ(std::count(entries.begin(), entries.end(), "c:on_sequential_epoch_end"), 0);
  EXPECT_NO_THROW(client.event(EventType::CALIBRATION_END));
  EXPECT_NO_THROW(client.finalize());
}

TEST_F(CoordinatorTest, BadRecipeIsARecipeErrorReply) {
  InitializeRequest request;
  request.recipe = std::string("s_stage:\n  m_modifiers:\n    NoSuchModifier: {}\n");
  try {
    client.initialize(request);
    FAIL();
  } catch (const lifecycle::RecipeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown modifier 'NoSuchModifier'"));
  }
  // Still not initialized: events are refused, a correct recipe then works.
  EXPECT_THROW(client.event(EventType::CALIBRATION_START), LifecycleError);
  request.recipe = std::string("s_stage:\n  m_modifiers:\n    RecordingModifier: {id: ok}\n");
  EXPECT_EQ(client.initialize(request).size(), 1u);
}

TEST_F(CoordinatorTest, InitializeTwiceDoesNotReinitialize) {
  client.initialize(modifiers({"a"}));
  log->clear();
  EXPECT_TRUE(client.initialize(modifiers({"x", "y"})).empty());
  EXPECT_TRUE(log->entries().empty());
  client.event(EventType::CALIBRATION_START);
  EXPECT_THAT(log->entries(), ElementsAre("a:on_event(CALIBRATION_START)", "a:on_calibration_start"));
}

TEST_F(CoordinatorTest, ResetFinalizesInitializedModifiersAndSwallowsErrors) {
  auto a = std::make_shared<RecordingModifier>("a", log);
  auto b = std::make_shared<RecordingModifier>("b", log);
  b->throw_on = "on_finalize";
  client.initialize(InitializeRequest{std::vector<ModifierPtr>{a, b}, std::nullopt, std::nullopt, {}});
  log->clear();
  EXPECT_NO_THROW(client.reset());
  EXPECT_THAT(log->entries(), ElementsAre("a:on_finalize", "b:on_finalize"));
  EXPECT_EQ(error_of([&] { client.event(EventType::CALIBRATION_START); }), "Cannot invoke event before initializing");
  EXPECT_EQ(client.initialize(modifiers({"fresh"})).size(), 1u);
}

TEST_F(CoordinatorTest, ConcurrentCallersAreSerialized) {
  client.initialize(modifiers({"a", "b"}));
  log->clear();
  constexpr int kThreads = 4;
  constexpr int kEventsPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      LifecycleClient caller(runtime.system(), client.coordinator());
      for (int i = 0; i < kEventsPerThread; ++i) {
        try {
          caller.event(EventType::SEQUENTIAL_EPOCH_END);
        } catch (...) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto entries = log->entries();
  ASSERT_EQ(entries.size(), static_cast<size_t>(kThreads * kEventsPerThread * 4));
  // Each event is delivered to a then b completely before the next event starts.
  for (size_t i = 0; i < entries.size(); i += 4) {
    EXPECT_EQ(entries[i], "a:on_event(SEQUENTIAL_EPOCH_END)");
    EXPECT_EQ(entries[i + 1], "a:on_sequential_epoch_end");
    EXPECT_EQ(entries[i + 2], "b:on_event(SEQUENTIAL_EPOCH_END)");
    EXPECT_EQ(entries[i + 3], "b:on_sequential_epoch_end");
  }
}

TEST_F(CoordinatorTest, NoEventIsDeliveredAfterFinalize) {
  client.initialize(modifiers({"a"}));
  std::atomic<int> accepted{0}, refused{0};
  std::thread sender([&] {
    LifecycleClient caller(runtime.system(), client.coordinator());
    for (int i = 0; i < 200; ++i) {
      try {
        caller.event(EventType::CALIBRATION_START);
        ++accepted;
      } catch (const LifecycleError&) {
        ++refused;
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  client.finalize();
  sender.join();
  EXPECT_EQ(accepted + refused, 200);
  auto entries = log->entries();
  auto finalize_at = std::find(entries.begin(), entries.end(), "a:on_finalize");
  ASSERT_NE(finalize_at, entries.end());
  EXPECT_EQ(std::count(finalize_at, entries.end(), "a:on_event(CALIBRATION_START)"), 0);
  EXPECT_EQ(std::count(entries.begin(), entries.end(), "a:on_event(CALIBRATION_START)"), accepted.load());
}

}  // namespace
}  // namespace dcomp::actors
