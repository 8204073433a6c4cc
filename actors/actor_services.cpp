#include "actors/actor_services.hpp"

#include <utility>

#include "actors/lifecycle_client.hpp"
#include "actors/pipeline_workers.hpp"
#include "actors/solve_team.hpp"
#include "lifecycle/modifier_registry.hpp"

namespace dcomp::actors {

ActorServices::ActorServices(size_t actor_threads) : actor_threads_(actor_threads) {}

ActorServices::~ActorServices() = default;

caf::actor_system& ActorServices::system() {
  if (!runtime_) runtime_ = std::make_unique<ActorRuntime>(actor_threads_);
  return runtime_->system();
}

std::unique_ptr<pipeline::LifecycleCalls> ActorServices::start_lifecycle() {
  return std::make_unique<LifecycleClient>(system(), lifecycle::ModifierRegistry::builtin());
}

std::unique_ptr<pipeline::LayerLoader> ActorServices::start_layer_loader(const io::CheckpointReader& reader,
                                                                         const model::ModelConfig& config,
                                                                         model::LinearLoader linear_loader) {
  return std::make_unique<LayerPrefetcher>(system(), reader, config, std::move(linear_loader));
}

std::unique_ptr<pipeline::HessianQueue> ActorServices::start_hessian_worker(size_t max_in_flight, c10::Device device) {
  return std::make_unique<HessianWorker>(system(), max_in_flight, device);
}

std::unique_ptr<pipeline::SolveRunner> ActorServices::start_solve_team(int workers) {
  return std::make_unique<SolveTeam>(system(), workers);
}

}  // namespace dcomp::actors
