// The actor system's threads compute with the process's intra-op thread count: OpenMP keeps
// that count per thread, and OpenBLAS reads it (omp_get_max_threads) on the calling thread.
// ATen sets it lazily before its own parallel loops, but a GEMM on an actor thread reaches
// OpenBLAS without that; without ActorRuntime's thread hook such a GEMM would use OpenMP's
// default (every core) whatever --threads said.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <caf/all.hpp>

#include <dlfcn.h>

#include <thread>

#include "actors/actor_runtime.hpp"

namespace dcomp::actors {
namespace {

// OpenMP's per-thread count as OpenBLAS sees it (libgomp is loaded with LibTorch).
int openmp_max_threads() {
  using Function = int (*)();
  static const auto function = reinterpret_cast<Function>(::dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  return function ? function() : -1;
}

TEST(ActorThreads, ComputeWithTheProcessThreadCount) {
  if (openmp_max_threads() < 0) GTEST_SKIP() << "this LibTorch does not use OpenMP (no omp_get_max_threads)";
  const int saved = at::get_num_threads();
  // A count OpenMP would not pick by itself: one more than the hardware threads.
  const int wanted = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) + 1;
  at::set_num_threads(wanted);
  {
    ActorRuntime runtime{3};
    std::vector<int> seen;
    caf::scoped_actor self{runtime.system()};
    for (int i = 0; i < 6; ++i) {
      // Spawned with an argument: CAF 0.17 dereferences the null argument tuple of an actor
      // function spawned without one (UndefinedBehaviorSanitizer reports it).
      auto worker = runtime.system().spawn(
          [](caf::event_based_actor*, int) -> caf::behavior {
            return {[](int) { return openmp_max_threads(); }};  // before any ATen call on this thread
          },
          i);
      self->request(worker, caf::infinite, i).receive([&](int count) { seen.push_back(count); },
                                                      [&](caf::error&) { seen.push_back(-1); });
      self->send_exit(worker, caf::exit_reason::user_shutdown);
    }
    for (int count : seen) EXPECT_EQ(count, wanted);
  }
  at::set_num_threads(saved);
}

}  // namespace
}  // namespace dcomp::actors
