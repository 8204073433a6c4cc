// The actor system of one dcomp process, configured in code (CAF_MAIN's argv
// parser would reject dcomp's own flags).
//
// Its threads compute with the process's intra-op thread count (at::set_num_threads, i.e.
// --threads), set before the runtime is made: OpenMP keeps the thread count per thread, so
// a thread the actor system starts (the Hessian worker, the layer loader, the modifiers)
// would otherwise run ATen's and OpenBLAS's parallel regions with OpenMP's default of
// every core, whatever --threads said.
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
