// The NCCL communicator with the device and stream its callers have current: a
// collective waits for the work queued on the caller's current ATen stream (here a
// stream of the pool, which does not synchronize with the legacy default stream), and
// a caller whose current device is another one keeps it, while the collective runs on
// the communicator's device, and no CUDA context is created on a GPU it does not use.
// One process, a 1-rank NCCL communicator per test.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <cstdlib>
#include <thread>
#include <vector>

#include "kernels/comm/communicator.hpp"
#include "support/aten_cuda.hpp"
#if defined(DCOMP_HAVE_NCCL)
#include <cuda_runtime.h>

#include "kernels/comm/nccl_communicator.hpp"
#endif

namespace dcomp::comm {
namespace {

#if defined(DCOMP_HAVE_NCCL)
int current_device() {
  int device = -1;
  cudaGetDevice(&device);
  return device;
}

/// The tensor's values as the device holds them now, copied on a stream of its own that
/// waits for no other stream.
std::vector<float> read_unordered(const at::Tensor& tensor) {
  std::vector<float> host(static_cast<size_t>(tensor.numel()));
  cudaStream_t reader = nullptr;
  cudaStreamCreateWithFlags(&reader, cudaStreamNonBlocking);
  cudaMemcpyAsync(host.data(), tensor.data_ptr(), host.size() * sizeof(float), cudaMemcpyDeviceToHost, reader);
  cudaStreamSynchronize(reader);
  cudaStreamDestroy(reader);
  return host;
}
#endif

TEST(NcclDevice, CollectiveWaitsForTheCallersCurrentAtenStream) {
#if defined(DCOMP_HAVE_NCCL)
  DCOMP_ATEN_CUDA_OR_SKIP();
  const c10::Device gpu(c10::DeviceType::CUDA, 0);
  auto bootstrap = make_single_communicator();
  auto nccl = make_nccl_communicator(*bootstrap, 0);
  at::Tensor tensor = at::zeros({1 << 20}, at::TensorOptions().device(gpu));  // [1M] fp32
  cudaDeviceSynchronize();
  const c10::impl::VirtualGuardImpl guard_impl(c10::DeviceType::CUDA);
  {
    const c10::StreamGuard on_side(guard_impl.getStreamFromGlobalPool(gpu));
    // Tens of milliseconds of GEMMs, then the value, all on the side stream.
    const at::Tensor a = at::randn({4096, 4096}, at::TensorOptions().device(gpu));
    for (int i = 0; i < 16; ++i) at::mm(a, a);
    tensor.fill_(7.0f);
    nccl->all_reduce(tensor, ReduceOp::Max);
    // all_reduce returned: the collective, hence the fill it waited for, is done.
    const std::vector<float> values = read_unordered(tensor);
    EXPECT_EQ(values.front(), 7.0f);
    EXPECT_EQ(values.back(), 7.0f);
  }
#else
  GTEST_SKIP() << "no CUDA device: this build has no NCCL (CUDA toolkit or NCCL not found at configure time)";
#endif
}

TEST(NcclDevice, CallersKeepTheirCurrentDevice) {
#if defined(DCOMP_HAVE_NCCL)
  std::string reason;
  if (!cuda_device_available(&reason)) GTEST_SKIP() << "no CUDA device: " << reason;
  int devices = 0;
  cudaGetDeviceCount(&devices);
  if (devices < 2) GTEST_SKIP() << "needs two GPUs (a communicator on one, callers on the other): " << devices << " visible";
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  auto bootstrap = make_single_communicator();
  auto nccl = make_nccl_communicator(*bootstrap, 1);
  EXPECT_EQ(current_device(), 0) << "construction left its device current";
  std::thread caller([&] {
    ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
    at::Tensor host = at::full({1000}, 3.0f);  // staged through the communicator's device buffer
    nccl->all_reduce(host, ReduceOp::Sum);
    EXPECT_TRUE(at::equal(host, at::full({1000}, 3.0f)));
    if (testing::aten_cuda_unavailable().empty()) {
      at::Tensor on_device = at::full({1000}, 5.0f, at::TensorOptions().device(c10::Device(c10::DeviceType::CUDA, 1)));
      nccl->all_reduce(on_device, ReduceOp::Sum);
      EXPECT_TRUE(at::equal(on_device.to(at::kCPU), at::full({1000}, 5.0f)));
    }
    EXPECT_EQ(current_device(), 0) << "a collective left the communicator's device current";
  });
  caller.join();
  nccl.reset();
  EXPECT_EQ(current_device(), 0) << "destruction left its device current";
#else
  GTEST_SKIP() << "no CUDA device: this build has no NCCL (CUDA toolkit or NCCL not found at configure time)";
#endif
}

#if defined(DCOMP_HAVE_NCCL)
/// In the death test's fresh process: 0 when a communicator on GPU 1, its collectives (a
/// staged host tensor, a tensor on GPU 1) and its destruction left GPU 0 without a context.
int communicate_on_the_second_gpu() {
  const bool context_before = at::detail::getCUDAHooks().hasPrimaryContext(0);
  auto bootstrap = make_single_communicator();
  auto nccl = make_nccl_communicator(*bootstrap, 1);
  at::Tensor host = at::full({100}, 2.0f);
  nccl->all_reduce(host, ReduceOp::Sum);
  at::Tensor on_device = at::full({100}, 2.0f, at::TensorOptions().device(c10::Device(c10::DeviceType::CUDA, 1)));
  nccl->all_reduce(on_device, ReduceOp::Sum);
  nccl.reset();
  const bool context_after = at::detail::getCUDAHooks().hasPrimaryContext(0);
  return !context_before && !context_after ? 0 : 1;
}
#endif

TEST(NcclDevice, ACommunicatorOnTheSecondGpuCreatesNoContextOnTheFirst) {
#if defined(DCOMP_HAVE_NCCL)
  DCOMP_ATEN_CUDA_OR_SKIP();  // LibTorch's device guard restores without creating a context
  int devices = 0;
  cudaGetDeviceCount(&devices);
  if (devices < 2) GTEST_SKIP() << "needs two GPUs (a communicator on the second, nothing on the first): " << devices << " visible";
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // the child starts afresh: no context anywhere
  EXPECT_EXIT(std::exit(communicate_on_the_second_gpu()), ::testing::ExitedWithCode(0), "");
#else
  GTEST_SKIP() << "no CUDA device: this build has no NCCL (CUDA toolkit or NCCL not found at configure time)";
#endif
}

}  // namespace
}  // namespace dcomp::comm
