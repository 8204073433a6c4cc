// The one-shot driver's services as actors: the lifecycle through the coordinator actor
// (LifecycleClient), the layer prefetcher and the Hessian worker (actors/pipeline_workers.hpp)
// and the solve team (actors/solve_team.hpp), all in one actor system that starts when the
// first of them is asked for and stops when this object goes (after everything it started).
#pragma once

#include <cstddef>
#include <memory>

#include "actors/actor_runtime.hpp"
#include "pipeline/driver_services.hpp"

namespace dcomp::actors {

class ActorServices : public pipeline::DriverServices {
 public:
  /// `actor_threads` = the actor system's scheduler threads (0: CAF's default).
  explicit ActorServices(size_t actor_threads);
  ~ActorServices() override;

  std::unique_ptr<pipeline::LifecycleCalls> start_lifecycle() override;
  std::unique_ptr<pipeline::LayerLoader> start_layer_loader(const io::CheckpointReader& reader,
                                                            const model::ModelConfig& config,
                                                            model::LinearLoader linear_loader) override;
  std::unique_ptr<pipeline::HessianQueue> start_hessian_worker(size_t max_in_flight, c10::Device device) override;
  std::unique_ptr<pipeline::SolveRunner> start_solve_team(int workers) override;

 private:
  caf::actor_system& system();

  size_t actor_threads_;
  std::unique_ptr<ActorRuntime> runtime_;
};

}  // namespace dcomp::actors
