// A team of worker actors that run a layer's independent per-module solves concurrently on
// the rank's compute threads: each worker is a detached actor (its own thread of the actor
// system) that solves with one compute thread, taking the next job as it finishes one. The
// coordinator and the collectives stay on the caller's thread, in program order; a solve's
// arithmetic does not depend on which worker runs it.
#pragma once

#include <cstddef>
#include <functional>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "lifecycle/layer_work.hpp"
#include "pipeline/solve_runner.hpp"

namespace dcomp::actors {

class SolveTeam : public pipeline::SolveRunner {
 public:
  /// `workers` detached actors (at least one).
  SolveTeam(caf::actor_system& system, int workers);
  ~SolveTeam() override;
  SolveTeam(const SolveTeam&) = delete;
  SolveTeam& operator=(const SolveTeam&) = delete;

  int workers() const override { return static_cast<int>(workers_.size()); }
  /// Runs job(0), ..., job(count − 1), each once, at most workers() at a time, and returns when
  /// all are done; throws the failure of the lowest-numbered job that failed.
  void run(size_t count, const std::function<void(size_t)>& job);
  /// The runner a LayerWork carries (LayerWork::parallel_for), valid while the team lives.
  lifecycle::ParallelFor runner() override;

 private:
  caf::actor_system& system_;
  std::vector<caf::actor> workers_;
};

}  // namespace dcomp::actors
