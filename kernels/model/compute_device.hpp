// The device a rank computes on (`--device cpu|cuda|auto`): which one, and why.
//
// One rank per GPU: a rank's GPU is its index among the ranks of its node (the
// first of LOCAL_RANK, OMPI_COMM_WORLD_LOCAL_RANK, SLURM_LOCALID that is set),
// modulo the GPUs it can see. "auto" takes the GPU when LibTorch was built with
// CUDA and one is visible, and the CPU otherwise; "cuda" refuses to fall back and
// says why no GPU can be used.
#pragma once

#include <functional>
#include <string>

#include <c10/core/Device.h>

namespace dcomp::model {

/// What this process can use: LibTorch's CUDA support and the GPUs it sees.
struct CudaAvailability {
  bool libtorch_has_cuda = false;  // this LibTorch was built with CUDA (its CUDA part is loaded)
  int device_count = 0;            // GPUs LibTorch can use (0 without CUDA support)
};

/// Asks LibTorch (no CUDA call is made when it was built without CUDA).
CudaAvailability probe_cuda();

/// Reads an environment variable (null when unset); injectable for tests.
using EnvironmentLookup = std::function<const char*(const char*)>;

/// This rank's index on its node: LOCAL_RANK, then OMPI_COMM_WORLD_LOCAL_RANK,
/// then SLURM_LOCALID; 0 when none is set. A set but malformed value (not a
/// non-negative integer) throws std::invalid_argument naming the variable.
int local_rank_from_environment(const EnvironmentLookup& lookup);
int local_rank_from_environment();

/// The device for `requested` ("cpu", "cuda" or "auto"). Throws
/// std::invalid_argument for another word, and std::runtime_error for "cuda" when
/// LibTorch lacks CUDA or sees no GPU (the message says which and what to do).
c10::Device choose_compute_device(const std::string& requested, const CudaAvailability& cuda, int local_rank);

}  // namespace dcomp::model
