// Where hidden states live between layers: the rule that compares their size with
// a share of the GPU's free memory, and the moves, which must leave CPU runs as
// they were (the same tensors, not copies).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "pipeline/hidden_state_placement.hpp"

namespace dcomp::pipeline {
namespace {

const c10::Device kGpu(c10::DeviceType::CUDA, 0);

TEST(HiddenStatePlacement, CpuRunsKeepThemWhereTheyAre) {
  const auto plan = plan_hidden_states(c10::kCPU, int64_t{1} << 40, std::nullopt, 0.5);
  EXPECT_EQ(plan.placement, HiddenStatePlacement::kComputeDevice);
}

TEST(HiddenStatePlacement, GpuKeepsThemWhileTheyFitTheBudget) {
  const int64_t free = 1000 << 20;
  EXPECT_EQ(plan_hidden_states(kGpu, 500 << 20, free, 0.5).placement, HiddenStatePlacement::kComputeDevice);
  EXPECT_EQ(plan_hidden_states(kGpu, (500 << 20) + 1, free, 0.5).placement, HiddenStatePlacement::kPinnedHost);
  EXPECT_EQ(plan_hidden_states(kGpu, 900 << 20, free, 0.9).placement, HiddenStatePlacement::kComputeDevice);
  const auto over = plan_hidden_states(kGpu, 600 << 20, free, 0.5);
  EXPECT_NE(over.reason.find("600.0 MiB"), std::string::npos) << over.reason;
  EXPECT_NE(over.reason.find("500.0 MiB"), std::string::npos) << over.reason;
}

TEST(HiddenStatePlacement, UnknownFreeMemoryMeansPinnedHostMemory) {
  EXPECT_EQ(plan_hidden_states(kGpu, 1, std::nullopt, 0.5).placement, HiddenStatePlacement::kPinnedHost);
}

TEST(HiddenStatePlacement, BytesCountEveryBatch) {
  HiddenStates hidden;
  hidden.chunks = {{at::zeros({2, 3, 8}), at::zeros({1, 5, 8})}, {at::zeros({4, 2, 8}, at::kDouble)}};
  EXPECT_EQ(hidden_state_bytes(hidden), (2 * 3 * 8 + 5 * 8) * 4 + 4 * 2 * 8 * 8);
}

TEST(HiddenStatePlacement, MovesOnTheCpuAreNoOps) {
  HiddenStates hidden;
  const at::Tensor batch = at::randn({2, 3, 8});
  hidden.chunks = {{batch}};
  place_hidden_states(hidden, plan_hidden_states(c10::kCPU, hidden_state_bytes(hidden), std::nullopt, 0.5),
                      c10::kCPU);
  EXPECT_TRUE(hidden.chunks[0][0].is_same(batch));
  EXPECT_TRUE(batch_on(batch, c10::kCPU).is_same(batch));
  at::Tensor slot = batch;
  const at::Tensor output = at::randn({2, 3, 8});
  store_batch(slot, output);
  EXPECT_TRUE(slot.is_same(output));       // same device: the output itself, no copy
  EXPECT_FALSE(batch.equal(output));       // and the old batch was not written into
}

TEST(HiddenStatePlacement, FreeMemoryIsUnknownForTheCpu) {
  EXPECT_FALSE(free_device_bytes(c10::kCPU).has_value());
}

}  // namespace
}  // namespace dcomp::pipeline
