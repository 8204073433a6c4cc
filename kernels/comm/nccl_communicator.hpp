// NCCL communicator: collectives between GPUs, one communicator per process and
// device. The NCCL unique id is created on rank 0 and shared over a bootstrap
// communicator (MPI). CUDA tensors are reduced in place on the device; CPU
// tensors are staged through a device buffer. A failed NCCL call aborts the
// communicator and throws, and the caller ends every rank.
#pragma once

#include <memory>
#include <string>

#include "kernels/comm/communicator.hpp"

namespace dcomp::comm {

/// True when at least one CUDA device is usable; otherwise `reason` says why
/// (e.g. "cudaGetDeviceCount failed: CUDA driver version is insufficient").
bool cuda_device_available(std::string* reason = nullptr);

/// Builds the NCCL communicator for this rank on `device` (cudaSetDevice), using
/// `bootstrap` to share the unique id. Throws BackendUnsupported without a GPU.
std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device);

}  // namespace dcomp::comm
