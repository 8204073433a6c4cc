#include "actors/actor_runtime.hpp"

#include <ATen/Parallel.h>
#include <caf/all.hpp>

#include "actors/actor_errors.hpp"

namespace dcomp::actors {
namespace {

// Gives every thread of the actor system the intra-op thread count of the process.
class ComputeThreadCount : public caf::thread_hook {
 public:
  void init(caf::actor_system&) override {}
  void thread_started() override { at::init_num_threads(); }
  void thread_terminates() override {}
};

}  // namespace

ActorRuntime::ActorRuntime(size_t worker_threads) : config_(std::make_unique<caf::actor_system_config>()) {
  if (worker_threads > 0) config_->set("scheduler.max-threads", worker_threads);
  config_->add_thread_hook<ComputeThreadCount>();
  config_->set("logger.verbosity", caf::atom("quiet"));
  config_->set("logger.console", caf::atom("none"));
  add_error_category(*config_);
  system_ = std::make_unique<caf::actor_system>(*config_);
}

ActorRuntime::~ActorRuntime() {
  system_.reset();  // waits for every actor to finish
}

}  // namespace dcomp::actors
