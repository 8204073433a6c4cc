#include "actors/actor_runtime.hpp"

#include <caf/all.hpp>

#include "actors/actor_errors.hpp"

namespace dcomp::actors {

ActorRuntime::ActorRuntime(size_t worker_threads) : config_(std::make_unique<caf::actor_system_config>()) {
  if (worker_threads > 0) config_->set("scheduler.max-threads", worker_threads);
  config_->set("logger.verbosity", caf::atom("quiet"));
  config_->set("logger.console", caf::atom("none"));
  add_error_category(*config_);
  system_ = std::make_unique<caf::actor_system>(*config_);
}

ActorRuntime::~ActorRuntime() {
  system_.reset();  // waits for every actor to finish
}

}  // namespace dcomp::actors
