// For tests of code that runs on ATen CUDA tensors: why LibTorch cannot compute on a GPU
// here (a CPU-only LibTorch, as Debian's; or no visible GPU), so that they skip saying so.
#pragma once

#include <string>

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <gtest/gtest.h>

namespace dcomp::testing {

/// Empty when LibTorch can compute on a GPU; otherwise the reason it cannot.
inline std::string aten_cuda_unavailable() {
  if (!at::detail::getCUDAHooks().hasCUDART()) return "this build's LibTorch has no CUDA (a CPU-only LibTorch)";
  if (!at::hasCUDA()) return "LibTorch sees no GPU (check CUDA_VISIBLE_DEVICES and the driver)";
  return {};
}

}  // namespace dcomp::testing

/// Skips the test, "no CUDA device: <reason>", unless LibTorch can compute on a GPU.
#define DCOMP_ATEN_CUDA_OR_SKIP()                                                     \
  if (const std::string reason = ::dcomp::testing::aten_cuda_unavailable(); !reason.empty()) \
  GTEST_SKIP() << "no CUDA device: " << reason
