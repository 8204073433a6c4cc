// The side stream on the CPU, where there is none: every member is a plain pass-through
// (the CUDA behaviour is tested in tests/gpu_pipeline).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <thread>

#include "pipeline/side_stream.hpp"

namespace dcomp::pipeline {
namespace {

TEST(SideStream, OnTheCpuThereIsNoStreamAndNoEvent) {
  const SideStream side(c10::kCPU);
  EXPECT_FALSE(side.stream().has_value());
  const StreamHandoff handoff = side.hand_off({at::ones({4, 4})});
  EXPECT_EQ(handoff.inputs_ready, nullptr);
  side.synchronize();
}

TEST(SideStream, OnTheCpuRunCallsTheWorkOnceOnTheCallingThread) {
  const SideStream side(c10::kCPU);
  at::Tensor sum = at::zeros({3});  // [3] fp32
  const at::Tensor x = at::arange(3, at::kFloat);
  int calls = 0;
  std::thread::id ran_on;
  side.run(side.hand_off({x}), [&] {
    ++calls;
    ran_on = std::this_thread::get_id();
    sum.add_(x, 2.0);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_TRUE(at::equal(sum, at::tensor({0.f, 2.f, 4.f})));
}

}  // namespace
}  // namespace dcomp::pipeline
