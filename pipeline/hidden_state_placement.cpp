// reference: CUDA C++ Programming Guide, "Page-Locked Host Memory" (asynchronous
// copies need pinned buffers; cudaHostAlloc); llm-compressor's sequential pipeline keeps the
// intermediates of every calibration sample between subgraphs (IntermediatesCache,
// with optional offloading to the CPU).
#include "pipeline/hidden_state_placement.hpp"

#include <ATen/ATen.h>

#include <c10/core/DeviceGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

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

// Batches start on 256-byte boundaries of the pinned buffer (CUDA's allocation alignment).
constexpr int64_t kBatchAlignment = 256;

int64_t aligned(int64_t bytes) { return (bytes + kBatchAlignment - 1) / kBatchAlignment * kBatchAlignment; }

/// `bytes` of page-locked host memory [bytes] uint8, exactly that size: LibTorch's caching
/// host allocator (pin_memory) rounds each allocation up to a power of two, which would
/// lock up to twice the hidden states' size. Allocated with `device` current (a GPU's
/// context, not a new one on the thread's default device 0).
at::Tensor pinned_host_bytes(int64_t bytes, c10::Device device) {
#if defined(DCOMP_HAVE_CUDA)
  c10::OptionalDeviceGuard on_device;
  if (device.is_cuda()) on_device.reset_device(device);
  void* data = nullptr;
  const cudaError_t code = cudaHostAlloc(&data, static_cast<size_t>(std::max<int64_t>(bytes, 1)), cudaHostAllocPortable);
  if (code != cudaSuccess) {
    cudaGetLastError();  // clear the error the failed allocation left behind
    throw std::runtime_error("cannot page-lock " + mebibytes(bytes) + " of host memory for the hidden states: " +
                             cudaGetErrorString(code));
  }
  return at::from_blob(data, {bytes}, [](void* pointer) { cudaFreeHost(pointer); }, at::TensorOptions(at::kByte));
#else
  (void)device;
  return at::empty({bytes}, at::kByte).pin_memory();
#endif
}

/// Copies the batches of `chunk` into one pinned buffer of their size (each batch a view of
/// its own slice), rather than one rounded-up allocation per batch. One buffer per chunk:
/// each chunk's unpinned batches are freed before the next chunk is pinned, so host memory
/// peaks at the hidden states plus one chunk, not twice the hidden states.
void pin_chunk(std::vector<at::Tensor>& chunk, c10::Device device) {
  int64_t total = 0;
  for (const auto& batch : chunk) total += aligned(batch.numel() * static_cast<int64_t>(batch.element_size()));
  const at::Tensor buffer = pinned_host_bytes(total, device);  // [total] uint8
  int64_t offset = 0;
  for (auto& batch : chunk) {
    const int64_t bytes = batch.numel() * static_cast<int64_t>(batch.element_size());
    at::Tensor slot = buffer.narrow(0, offset, bytes).view(batch.scalar_type()).view(batch.sizes());
    slot.copy_(batch);
    batch = slot;
    offset += aligned(bytes);
  }
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
  try {
    // LibTorch's guard: restoring the thread's previous device creates no CUDA context
    // there when it has none (cudaSetDevice would, on device 0, for every rank).
    const c10::DeviceGuard on_device(device);
    size_t free = 0;
    size_t total = 0;
    if (cudaMemGetInfo(&free, &total) != cudaSuccess) {
      cudaGetLastError();  // clear the error the failed query left behind
      return std::nullopt;
    }
    return static_cast<int64_t>(free);
  } catch (const c10::Error&) {  // a LibTorch without CUDA, or the device cannot be made current
    return std::nullopt;
  }
#else
  return std::nullopt;
#endif
}

void place_hidden_states(HiddenStates& hidden, const HiddenStatePlan& plan, c10::Device device) {
  if (plan.placement == HiddenStatePlacement::kPinnedHost) {
    for (auto& chunk : hidden.chunks) pin_chunk(chunk, device);
    return;
  }
  for (auto& chunk : hidden.chunks) {
    for (auto& batch : chunk) batch = batch.to(device);
  }
}

at::Tensor batch_on(const at::Tensor& batch, c10::Device device) {
  if (batch.device() == device) return batch;
  return batch.to(device, /*non_blocking=*/batch.is_pinned());
}

void store_batch(at::Tensor& slot, const at::Tensor& output) {
  if (slot.device() != output.device() && slot.sizes() == output.sizes()) {
    // Device → host into the same buffer; from a pinned slot, queued on the current stream
    // (after the forward pass that reads the slot), finished by wait_for_stored_batches.
    slot.copy_(output, /*non_blocking=*/slot.is_pinned());
    return;
  }
  slot = output;
}

void wait_for_stored_batches(c10::Device device) {
  if (!device.is_cuda()) return;
  const c10::impl::VirtualGuardImpl guard_impl(device.type());
  guard_impl.getStream(device).synchronize();  // the calling thread's current stream of `device`
}

}  // namespace dcomp::pipeline
