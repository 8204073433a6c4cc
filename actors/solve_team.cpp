#include "actors/solve_team.hpp"

#include <ATen/Parallel.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/actor_errors.hpp"

namespace dcomp::actors {
namespace {

using solve_atom = caf::atom_constant<caf::atom("solve")>;
using one_thread_atom = caf::atom_constant<caf::atom("onethread")>;

// The jobs of one run, shared by its workers: each takes the next index until none is left.
struct SolveRun {
  const std::function<void(size_t)>* job = nullptr;
  size_t count = 0;
  std::atomic<size_t> next{0};
  std::mutex failure_mutex;
  size_t failed_index = SIZE_MAX;
  std::string failure;
};

}  // namespace
}  // namespace dcomp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<dcomp::actors::SolveRun>)

namespace dcomp::actors {
namespace {

caf::behavior solve_worker(caf::event_based_actor*) {
  return {
      [](one_thread_atom) {
        // A detached actor owns its thread: one compute thread for each solve it runs. The
        // thread's lazy ATen initialisation runs first, so that it cannot raise the count again.
        at::get_num_threads();
        at::set_num_threads(1);
        return true;
      },
      [](solve_atom, std::shared_ptr<SolveRun> run) {
        for (size_t index = run->next++; index < run->count; index = run->next++) {
          try {
            (*run->job)(index);
          } catch (const std::exception& error) {
            std::lock_guard<std::mutex> lock(run->failure_mutex);
            if (index < run->failed_index) {
              run->failed_index = index;
              run->failure = error.what();
            }
          }
        }
        return true;
      },
  };
}

}  // namespace

SolveTeam::SolveTeam(caf::actor_system& system, int workers) : system_(system) {
  const int caller_threads = at::get_num_threads();
  for (int i = 0; i < std::max(workers, 1); ++i) workers_.push_back(system.spawn<caf::detached>(solve_worker));
  caf::scoped_actor self{system_};
  for (const auto& worker : workers_) {
    self->request(worker, caf::infinite, one_thread_atom::value).receive([](bool) {}, [](caf::error&) {});
  }
  // at::set_num_threads also sets the count threads started later take: the caller's again.
  at::set_num_threads(caller_threads);
}

SolveTeam::~SolveTeam() {
  caf::scoped_actor self{system_};
  for (const auto& worker : workers_) self->send_exit(worker, caf::exit_reason::user_shutdown);
}

void SolveTeam::run(size_t count, const std::function<void(size_t)>& job) {
  if (count == 0) return;
  auto run = std::make_shared<SolveRun>();
  run->job = &job;
  run->count = count;
  const size_t active = std::min(count, workers_.size());
  std::string transport_error;
  // A blocking actor of the calling thread (the modifier's, which waits here). Every worker
  // starts before the caller waits for the first.
  caf::scoped_actor self{system_};
  std::vector<decltype(self->request(workers_[0], caf::infinite, solve_atom::value, run))> pending;
  for (size_t w = 0; w < active; ++w) pending.push_back(self->request(workers_[w], caf::infinite, solve_atom::value, run));
  for (auto& handle : pending) {
    handle.receive([](bool) {}, [&](caf::error& error) { transport_error = error_message(error); });
  }
  if (!transport_error.empty()) throw std::runtime_error("solve worker failed: " + transport_error);
  if (run->failed_index != SIZE_MAX) throw std::runtime_error(run->failure);
}

lifecycle::ParallelFor SolveTeam::runner() {
  return [this](size_t count, const std::function<void(size_t)>& job) { run(count, job); };
}

}  // namespace dcomp::actors
