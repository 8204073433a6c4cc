// NCCL communicator: collectives between GPUs, one communicator per process and
// device. The NCCL unique id is created on rank 0 and shared over a bootstrap
// communicator (MPI), which also carries the small host messages. CUDA tensors
// are reduced in place on the device, without host copies; CPU tensors are staged
// through a device buffer. A failed NCCL call aborts the communicator and throws,
// and the caller ends every rank.
//
// Devices: the communicator belongs to one device. Its construction, each collective
// and its destruction make that device current and restore the caller's afterwards,
// so any thread may call it whatever device it has current.
//
// Ordering against compute: each collective runs on the communicator's own stream
// after an event recorded on the caller's current ATen stream of the device (the
// default stream, or the one a stream guard made current: the stream whose kernels
// wrote the tensor), so it reads the tensor only once they are done; the call
// returns after the collective has completed, so later kernels on any stream, and
// the host, see its result.
//
// Timeouts: the call polls the collective's completion (an event after it on the
// stream) and NCCL's asynchronous error under the bootstrap's collective watchdog,
// and past the timeout aborts the NCCL communicator and ends the job.
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
/// The same, owning its bootstrap communicator.
std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> bootstrap, int device);

}  // namespace dcomp::comm
