// An actor system on CAF's deterministic test coordinator: no actor runs until
// the test dispatches it, one job at a time, so the order in which requests
// arrive and replies come back is decided by the test, not by threads.
// Requests go out from small caller actors that record each reply (or error)
// in the order the replies arrive.
// reference: CAF 0.17 manual, "Testing" (caf::scheduler::test_coordinator)
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <nlohmann/json.hpp>

#include "actors/actor_errors.hpp"
#include "actors/messages.hpp"

namespace dcomp::testing {

/// One reply as its caller saw it: the results, or the error's code and message.
struct ObservedReply {
  std::string label;
  std::optional<std::vector<nlohmann::json>> results;  // set when the call succeeded
  std::optional<actors::lifecycle_errc> error_code;    // set when it failed with a dcomp error
  std::string error_message;

  bool ok() const { return results.has_value(); }
};

inline std::vector<nlohmann::json> results_of(actors::LifecycleReply& reply) { return std::move(reply.results); }

inline std::vector<nlohmann::json> results_of(actors::ModifierReply& reply) {
  if (!reply.result) return {};
  return {std::move(*reply.result)};
}

class DeterministicActorSystem {
 public:
  DeterministicActorSystem()
      : system_(configured(config_)),
        scheduler_(dynamic_cast<caf::scheduler::test_coordinator&>(system_.scheduler())) {}
  ~DeterministicActorSystem() { scheduler_.run(); }

  caf::actor_system& system() { return system_; }
  caf::scheduler::test_coordinator& scheduler() { return scheduler_; }
  /// Dispatches every pending job, including the ones they create, until none is left.
  size_t run() { return scheduler_.run(); }

  /// Spawns a caller that sends `message...` to `target` as one request and
  /// records the reply under `label`. Nothing is sent before the next run.
  template <class Reply, class Handle, class... Ts>
  void request(std::string label, const Handle& target, Ts... message) {
    auto replies = replies_;
    // Spawned with an argument: CAF 0.17 dereferences the null argument tuple of an actor
    // function spawned without one (UndefinedBehaviorSanitizer reports it).
    system_.spawn(
        [=](caf::event_based_actor* self, int) {
          self->request(target, caf::infinite, message...)
              .then([=](Reply& reply) { replies->push_back(ObservedReply{label, results_of(reply), std::nullopt, ""}); },
                    [=](caf::error& error) { replies->push_back(observed_error(label, error)); });
        },
        0);
  }

  /// The replies received so far, in the order they arrived.
  const std::vector<ObservedReply>& replies() const { return *replies_; }

 private:
  static caf::actor_system_config& configured(caf::actor_system_config& config) {
    config.set("scheduler.policy", caf::atom("testing"));
    config.set("logger.verbosity", caf::atom("quiet"));
    config.set("logger.console", caf::atom("none"));
    actors::add_error_category(config);
    return config;
  }

  static ObservedReply observed_error(const std::string& label, const caf::error& error) {
    ObservedReply reply{label, std::nullopt, std::nullopt, actors::error_message(error)};
    if (error.category() == caf::atom("dcomp")) reply.error_code = static_cast<actors::lifecycle_errc>(error.code());
    return reply;
  }

  caf::actor_system_config config_;
  caf::actor_system system_;
  caf::scheduler::test_coordinator& scheduler_;
  std::shared_ptr<std::vector<ObservedReply>> replies_ = std::make_shared<std::vector<ObservedReply>>();
};

}  // namespace dcomp::testing
