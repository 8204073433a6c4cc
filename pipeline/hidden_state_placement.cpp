// reference: CUDA C++ Programming Guide, "Page-Locked Host Memory" (asynchronous
// copies need pinned buffers); llm-compressor's sequential pipeline keeps the
// intermediates of every calibration sample between subgraphs (IntermediatesCache,
// with optional offloading to the CPU).
#include "pipeline/hidden_state_placement.hpp"

#include <ATen/ATen.h>

#include <cstdio>

#if defined(DCOMP_HAVE_CUDA)
#include <cuda_runtime_api.h>
#endif

namespace dcomp::pipeline {
namespace {

std::string mebibytes(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

}  // namespace

HiddenStatePlan plan_hidden_states(c10::Device device, int64_t bytes, std::optional<int64_t> free_device_bytes,
                                   double budget_fraction) {
  HiddenStatePlan plan;
  if (device.is_cpu()) {
    plan.reason = mebibytes(bytes) + " of hidden states in host memory (computing on the CPU)";
    return plan;
  }
  if (!free_device_bytes) {
    plan.placement = HiddenStatePlacement::kPinnedHost;
    plan.reason = mebibytes(bytes) + " of hidden states in pinned host memory (the GPU's free memory is unknown)";
    return plan;
  }
  const auto budget = static_cast<int64_t>(budget_fraction * static_cast<double>(*free_device_bytes));
  if (bytes <= budget) {
    plan.reason = mebibytes(bytes) + " of hidden states on the GPU (budget " + mebibytes(budget) + " of " +
                  mebibytes(*free_device_bytes) + " free)";
    return plan;
  }
  plan.placement = HiddenStatePlacement::kPinnedHost;
  plan.reason = mebibytes(bytes) + " of hidden states in pinned host memory: over the GPU budget of " +
                mebibytes(budget) + " (of " + mebibytes(*free_device_bytes) + " free); each batch is copied in turn";
  return plan;
}

int64_t hidden_state_bytes(const HiddenStates& hidden) {
  int64_t bytes = 0;
  for (const auto& chunk : hidden.chunks) {
    for (const auto& batch : chunk) bytes += batch.numel() * static_cast<int64_t>(batch.element_size());
  }
  return bytes;
}

std::optional<int64_t> free_device_bytes(c10::Device device) {
  if (!device.is_cuda()) return std::nullopt;
#if defined(DCOMP_HAVE_CUDA)
  int previous = 0;
  if (cudaGetDevice(&previous) != cudaSuccess) return std::nullopt;
  size_t free = 0;
  size_t total = 0;
  const bool ok = cudaSetDevice(device.has_index() ? device.index() : previous) == cudaSuccess &&
                  cudaMemGetInfo(&free, &total) == cudaSuccess;
  cudaSetDevice(previous);
  if (!ok) {
    cudaGetLastError();  // clear the error the failed query left behind
    return std::nullopt;
  }
  return static_cast<int64_t>(free);
#else
  return std::nullopt;
#endif
}

void place_hidden_states(HiddenStates& hidden, const HiddenStatePlan& plan, c10::Device device) {
  for (auto& chunk : hidden.chunks) {
    for (auto& batch : chunk) {
      if (plan.placement == HiddenStatePlacement::kComputeDevice) {
        batch = batch.to(device);
      } else {
        batch = batch.to(at::kCPU).pin_memory();
      }
    }
  }
}

at::Tensor batch_on(const at::Tensor& batch, c10::Device device) {
  if (batch.device() == device) return batch;
  return batch.to(device, /*non_blocking=*/batch.is_pinned());
}

void store_batch(at::Tensor& slot, const at::Tensor& output) {
  if (slot.device() != output.device() && slot.sizes() == output.sizes()) {
    slot.copy_(output);  // device → pinned host, into the same buffer
    return;
  }
  slot = output;
}

}  // namespace dcomp::pipeline
