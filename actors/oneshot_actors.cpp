#include "actors/oneshot_actors.hpp"

#include "actors/actor_services.hpp"
#include "pipeline/oneshot_driver.hpp"

namespace dcomp::actors {

pipeline::OneshotResult run_oneshot(const pipeline::OneshotOptions& options, comm::Communicator& comm) {
  ActorServices services(options.actor_threads);
  return pipeline::run_oneshot_driver(options, comm, services);
}

}  // namespace dcomp::actors
