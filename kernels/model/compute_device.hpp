// The device a rank computes on (`--device cpu|cuda|auto`): which one, and why.
//
// One rank per GPU: a rank's GPU is its index among the ranks of its node
// (platform::local_rank_from_environment), modulo the GPUs it can see. "auto" takes the GPU when LibTorch was built with
// CUDA and one is visible, and the CPU otherwise; "cuda" refuses to fall back and
// says why no GPU can be used.
#pragma once

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

/// The device for `requested` ("cpu", "cuda" or "auto"). Throws
/// std::invalid_argument for another word, and std::runtime_error for "cuda" when
/// LibTorch lacks CUDA or sees no GPU (the message says which and what to do).
c10::Device choose_compute_device(const std::string& requested, const CudaAvailability& cuda, int local_rank);

}  // namespace dcomp::model
