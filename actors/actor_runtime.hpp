// The actor system of one dcomp process, configured in code (CAF_MAIN's argv
// parser would reject dcomp's own flags).
#pragma once

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

namespace dcomp::actors {

class ActorRuntime {
 public:
  /// `worker_threads` = CAF scheduler threads (0: CAF's default).
  explicit ActorRuntime(size_t worker_threads = 0);
  ~ActorRuntime();
  caf::actor_system& system() { return *system_; }

 private:
  std::unique_ptr<caf::actor_system_config> config_;
  std::unique_ptr<caf::actor_system> system_;
};

}  // namespace dcomp::actors
