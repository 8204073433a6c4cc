// A coordinator actor with recording modifiers on the deterministic actor
// system: tests queue lifecycle calls, dispatch them, and read back the replies
// in arrival order next to the log of hooks the modifiers saw.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "actors/actor_interfaces.hpp"
#include "actors/coordinator.hpp"
#include "tests/actors/deterministic_actor_system.hpp"
#include "tests/lifecycle/recording_modifier.hpp"

namespace dcomp::testing {

class DeterministicCoordinatorTest : public ::testing::Test {
 protected:
  DeterministicCoordinatorTest() {
    coordinator_ = actor_system.system().spawn(actors::coordinator, &registry_);
    actor_system.run();
  }
  ~DeterministicCoordinatorTest() override {
    caf::anon_send_exit(coordinator_, caf::exit_reason::user_shutdown);
    actor_system.run();
  }

  /// A recipe of recording modifiers with these ids, in this order.
  std::vector<lifecycle::ModifierPtr> recording_modifiers(const std::vector<std::string>& ids) {
    std::vector<lifecycle::ModifierPtr> modifiers;
    for (const auto& id : ids) modifiers.push_back(std::make_shared<RecordingModifier>(id, log));
    return modifiers;
  }

  void initialize(const std::string& label, std::vector<lifecycle::ModifierPtr> modifiers) {
    actor_system.request<actors::LifecycleReply>(label, coordinator_, actors::initialize_atom::value,
                                           actors::InitializeRequest{modifiers, std::nullopt, std::nullopt, {}});
  }
  void event(const std::string& label, lifecycle::EventType type, lifecycle::Kwargs kwargs = {}) {
    actor_system.request<actors::LifecycleReply>(label, coordinator_, actors::event_atom::value,
                                           actors::EventRequest{type, 0, std::move(kwargs)});
  }
  void finalize(const std::string& label) {
    actor_system.request<actors::LifecycleReply>(label, coordinator_, actors::finalize_atom::value,
                                           actors::FinalizeRequest{});
  }
  void reset(const std::string& label) {
    actor_system.request<actors::LifecycleReply>(label, coordinator_, actors::reset_atom::value);
  }

  /// Initializes with recording modifiers `ids` and dispatches it; the log starts empty afterwards.
  void initialized_with(const std::vector<std::string>& ids) {
    initialize("initialize", recording_modifiers(ids));
    actor_system.run();
    ASSERT_EQ(actor_system.replies().size(), 1u);
    ASSERT_TRUE(actor_system.replies()[0].ok()) << actor_system.replies()[0].error_message;
    log->clear();
  }

  /// The reply recorded under `label` (fails the test when there is none).
  ObservedReply reply(const std::string& label) const {
    for (const auto& observed : actor_system.replies()) {
      if (observed.label == label) return observed;
    }
    ADD_FAILURE() << "no reply for " << label;
    return ObservedReply{label, std::nullopt, std::nullopt, "(no reply)"};
  }

  /// The labels of the replies received so far, in arrival order.
  std::vector<std::string> reply_order() const {
    std::vector<std::string> labels;
    for (const auto& observed : actor_system.replies()) labels.push_back(observed.label);
    return labels;
  }

  DeterministicActorSystem actor_system;
  std::shared_ptr<CallLog> log = std::make_shared<CallLog>();

 private:
  lifecycle::ModifierRegistry registry_ = recording_registry(log);
  actors::coordinator_actor coordinator_;
};

}  // namespace dcomp::testing
