// --device: the choice of device from the request, LibTorch's CUDA support, the
// visible GPUs and the node-local rank; and the node-local rank's variables.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "kernels/model/compute_device.hpp"

namespace dcomp::model {
namespace {

CudaAvailability without_cuda() { return {false, 0}; }
CudaAvailability with_gpus(int count) { return {true, count}; }

std::string error_of(const std::string& requested, const CudaAvailability& cuda) {
  try {
    choose_compute_device(requested, cuda, 0);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(ComputeDevice, CpuIsAlwaysTheCpu) {
  EXPECT_TRUE(choose_compute_device("cpu", with_gpus(8), 3).is_cpu());
  EXPECT_TRUE(choose_compute_device("cpu", without_cuda(), 0).is_cpu());
}

TEST(ComputeDevice, AutoTakesTheGpuOnlyWhenLibTorchHasCudaAndSeesOne) {
  EXPECT_TRUE(choose_compute_device("auto", without_cuda(), 0).is_cpu());
  EXPECT_TRUE(choose_compute_device("auto", with_gpus(0), 0).is_cpu());
  const c10::Device device = choose_compute_device("auto", with_gpus(1), 0);
  EXPECT_TRUE(device.is_cuda());
  EXPECT_EQ(device.index(), 0);
}

TEST(ComputeDevice, EachLocalRankTakesItsOwnGpuModuloTheVisibleOnes) {
  // 8 ranks on a node with 4 GPUs: 0..3 take GPUs 0..3, 4..7 wrap around.
  for (int local_rank = 0; local_rank < 8; ++local_rank) {
    const c10::Device device = choose_compute_device("cuda", with_gpus(4), local_rank);
    ASSERT_TRUE(device.is_cuda());
    EXPECT_EQ(device.index(), local_rank % 4) << "local rank " << local_rank;
  }
}

TEST(ComputeDevice, CudaRefusesToFallBackAndSaysWhy) {
  EXPECT_NE(error_of("cuda", without_cuda()).find("LibTorch without CUDA support"), std::string::npos);
  EXPECT_NE(error_of("cuda", with_gpus(0)).find("sees no GPU"), std::string::npos);
  EXPECT_NE(error_of("gpu", with_gpus(1)).find("--device must be cpu, cuda or auto, not 'gpu'"), std::string::npos);
}

TEST(ComputeDevice, ProbeIsConsistent) {
  const CudaAvailability cuda = probe_cuda();
  if (!cuda.libtorch_has_cuda) {
    EXPECT_EQ(cuda.device_count, 0);
  }
  EXPECT_GE(cuda.device_count, 0);
}


}  // namespace
}  // namespace dcomp::model
