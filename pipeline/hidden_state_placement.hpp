// Where a rank keeps its calibration hidden states between decoder layers when it
// computes on a GPU: on the GPU while they fit in a share of its free memory,
// otherwise in pinned (page-locked) host memory, copied to the GPU one batch at a
// time for each forward pass and back after propagation. On the CPU they simply
// stay where they are.
//
// Pinned hidden states are page-locked buffers of their exact size, one per chunk of
// samples, allocated once per run, each batch a slice of one that every layer's output is
// copied back into. The copies
// both ways are asynchronous on the pipeline thread's current stream: the copy back into a
// slot is queued after the forward pass that read it, and wait_for_stored_batches ends
// them before the host reads the slots.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <ATen/core/Tensor.h>

#include "pipeline/hidden_states.hpp"

namespace dcomp::pipeline {

enum class HiddenStatePlacement {
  kComputeDevice,  // resident on the device the layers run on (the CPU, or the GPU when they fit)
  kPinnedHost,     // host memory, page-locked for fast asynchronous copies to the GPU
};

struct HiddenStatePlan {
  HiddenStatePlacement placement = HiddenStatePlacement::kComputeDevice;
  std::string reason;  // for the log: sizes and the budget they were compared with
};

/// The placement for `bytes` of hidden states on `device`: the compute device when it
/// is the CPU, or when `bytes` ≤ budget_fraction × `free_device_bytes`; pinned host
/// memory otherwise, and when the free memory is unknown (nullopt).
HiddenStatePlan plan_hidden_states(c10::Device device, int64_t bytes, std::optional<int64_t> free_device_bytes,
                                   double budget_fraction);

/// Bytes of every batch of `hidden`.
int64_t hidden_state_bytes(const HiddenStates& hidden);

/// Free memory of a CUDA device as the CUDA runtime reports it; nullopt for the CPU,
/// or when this build has no CUDA runtime or its LibTorch no CUDA. The calling thread's
/// current device is left as it was, and no CUDA context is created on it.
std::optional<int64_t> free_device_bytes(c10::Device device);

/// Moves every batch to `device` (kComputeDevice) or into pinned host memory (kPinnedHost:
/// one buffer of each chunk's size, each batch a view of it). Throws std::runtime_error when the
/// host memory cannot be page-locked.
void place_hidden_states(HiddenStates& hidden, const HiddenStatePlan& plan, c10::Device device);

/// A batch as the forward pass on `device` needs it (an asynchronous copy from
/// pinned memory, or the batch itself when it is already there).
at::Tensor batch_on(const at::Tensor& batch, c10::Device device);

/// Stores a forward pass's output [batch, seq, hidden] fp32 as the new hidden states
/// in `slot`: in place into a host slot (keeping it pinned; asynchronous from a pinned
/// slot), by handle otherwise.
void store_batch(at::Tensor& slot, const at::Tensor& output);

/// Waits, on the host, until the copies store_batch queued on this thread's current
/// stream of `device` are done: call it before reading or saving the host slots.
/// Nothing to wait for on the CPU.
void wait_for_stored_batches(c10::Device device);

}  // namespace dcomp::pipeline
