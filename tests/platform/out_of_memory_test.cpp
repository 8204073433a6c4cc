// Allocation failures told apart from other errors, with the size the allocator was asked for:
// LibTorch's own failure on a request no machine grants, and the messages of its allocators.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <new>
#include <stdexcept>

#include "kernels/platform/out_of_memory.hpp"

namespace dcomp::platform {
namespace {

TEST(AllocationFailure, LibTorchsCpuAllocatorFailureGivesTheBytesAskedFor) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer ends the process on an allocation this size instead of failing it";
#endif
  const int64_t elements = int64_t{1} << 48;  // 2^48 floats: 1 PiB
  try {
    at::Tensor huge = at::empty({elements}, at::kFloat);
    GTEST_SKIP() << "this machine granted 1 PiB";
  } catch (const std::exception& error) {
    const auto failure = as_allocation_failure(error);
    ASSERT_TRUE(failure) << error.what();
    ASSERT_TRUE(failure->bytes) << error.what();
    EXPECT_EQ(*failure->bytes, static_cast<uint64_t>(elements) * sizeof(float));
  }
}

TEST(AllocationFailure, RecognisesBadAllocAndTheAllocatorsMessages) {
  EXPECT_TRUE(as_allocation_failure(std::bad_alloc()));
  EXPECT_FALSE(as_allocation_failure(std::bad_alloc())->bytes);
  const auto wrapped = as_allocation_failure(std::runtime_error("GPTQModifier failed on layer 3: std::bad_alloc"));
  EXPECT_TRUE(wrapped);
  const auto cuda = as_allocation_failure(std::runtime_error(
      "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.10 GiB"));
  ASSERT_TRUE(cuda && cuda->bytes);
  EXPECT_EQ(*cuda->bytes, uint64_t{2} << 30);
  EXPECT_FALSE(as_allocation_failure(std::runtime_error("config.json: field \"hidden_size\" is missing")));
}

TEST(AllocationFailure, DescribesBytesExactlyAndInGiB) {
  EXPECT_EQ(describe_bytes(uint64_t{3} << 29), "1610612736 bytes (1.50 GiB)");
  EXPECT_GT(peak_resident_bytes(), uint64_t{1} << 20);  // a LibTorch process holds more than 1 MiB
}

}  // namespace
}  // namespace dcomp::platform
