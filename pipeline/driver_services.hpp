// The services the one-shot driver and its per-layer loop start and use without knowing who
// runs them: the lifecycle the modifiers live in, and the helpers that overlap the loop's
// phases (the next layer's load, the Hessian GEMMs, the concurrent solves). actors/ provides
// them as actors (actors/actor_services.hpp).
#pragma once

#include <cstddef>
#include <memory>

#include <c10/core/Device.h>

#include "kernels/io/safetensors.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/weight_loading.hpp"
#include "pipeline/hessian_queue.hpp"
#include "pipeline/layer_loader.hpp"
#include "pipeline/lifecycle_calls.hpp"
#include "pipeline/solve_runner.hpp"

namespace dcomp::pipeline {

class DriverServices {
 public:
  virtual ~DriverServices() = default;
  /// The lifecycle of the run (its modifiers are initialized through it later).
  virtual std::unique_ptr<LifecycleCalls> start_lifecycle() = 0;
  /// A loader of decoder layers from `reader`, which must outlive it.
  virtual std::unique_ptr<LayerLoader> start_layer_loader(const io::CheckpointReader& reader,
                                                          const model::ModelConfig& config,
                                                          model::LinearLoader linear_loader) = 0;
  /// A queue of Hessian GEMMs run beside the calling thread, at most `max_in_flight` queued;
  /// with a CUDA `device` the jobs' tensors live there.
  virtual std::unique_ptr<HessianQueue> start_hessian_worker(size_t max_in_flight, c10::Device device) = 0;
  /// `workers` concurrent solvers (at least one).
  virtual std::unique_ptr<SolveRunner> start_solve_team(int workers) = 0;
};

}  // namespace dcomp::pipeline
