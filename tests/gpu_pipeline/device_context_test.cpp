// A rank computing on a GPU other than the first must not create a CUDA context on GPU 0
// (some hundreds of MiB there for every rank of the node): dcomp's own CUDA runtime calls
// for the hidden states (free memory, the pinned buffer) make the rank's device current
// through LibTorch's guard, which restores the thread's device without creating a context
// on it. Each check runs in a fresh process (a death test), where GPU 0 has none yet.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include <cstdlib>

#include "pipeline/hidden_state_placement.hpp"
#include "support/aten_cuda.hpp"

namespace dcomp::pipeline {
namespace {

/// In the death test's fresh process: 0 when free_device_bytes and a pinned placement for
/// GPU 1 worked and left GPU 0 without a context, 1 otherwise.
int place_on_the_second_gpu() {
  const c10::Device second(c10::DeviceType::CUDA, 1);
  const bool context_before = at::detail::getCUDAHooks().hasPrimaryContext(0);
  const auto free = free_device_bytes(second);
  HiddenStates hidden;
  hidden.chunks = {{at::randn({2, 7, 32}), at::randn({1, 9, 32})}};
  hidden.samples_per_chunk = {3};
  place_hidden_states(hidden, plan_hidden_states(second, hidden_state_bytes(hidden), std::nullopt, 0.5), second);
  const bool pinned = hidden.chunks[0][0].is_pinned();
  const bool context_after = at::detail::getCUDAHooks().hasPrimaryContext(0);
  return !context_before && free.has_value() && pinned && !context_after ? 0 : 1;
}

TEST(GpuDeviceContext, HiddenStatesOnTheSecondGpuCreateNoContextOnTheFirst) {
  DCOMP_ATEN_CUDA_OR_SKIP();
  const int gpus = at::detail::getCUDAHooks().getNumGPUs();
  if (gpus < 2) GTEST_SKIP() << "needs two GPUs (work on the second, none on the first): " << gpus << " visible";
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // the child starts afresh: no context anywhere
  EXPECT_EXIT(std::exit(place_on_the_second_gpu()), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace dcomp::pipeline
