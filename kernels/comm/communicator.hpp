// Communicator: the one interface through which ranks exchange tensors.
//
// CONTRACT: every rank issues the same collectives, on tensors of the same shape
// and dtype, in the same order. A backend only moves bytes; the caller (the
// pipeline and its coordinator) decides what is communicated and when. A rank
// that breaks this contract deadlocks or corrupts the job, so the pipeline keeps
// every collective on one thread, in program order.
//
// Backends: "single" (one process, collectives are identities), "mpi" (host
// memory; GPU tensors are staged through it), "nccl" (GPU buffers over NCCL). A
// backend that cannot do an operation throws BackendUnsupported naming the
// backend and the operation.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/comm/collective_watchdog.hpp"

namespace dcomp::comm {

enum class ReduceOp { Sum, Max, Min };

/// "backend X does not support Y".
class BackendUnsupported : public std::runtime_error {
 public:
  BackendUnsupported(const std::string& backend, const std::string& operation)
      : std::runtime_error("communicator backend '" + backend + "' does not support " + operation) {}
};

/// A failure inside a collective (the job cannot continue consistently).
class CommError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual std::string backend_name() const = 0;

  /// In-place all-reduce of a contiguous tensor (every rank ends with the result).
  virtual void all_reduce(at::Tensor& tensor, ReduceOp op) = 0;
  /// In-place reduce to `root` (only the root's tensor holds the result afterwards).
  virtual void reduce(at::Tensor& tensor, ReduceOp op, int root) = 0;
  /// In-place broadcast of a contiguous tensor from `root`.
  virtual void broadcast(at::Tensor& tensor, int root) = 0;
  /// Broadcasts a byte string from `root` (any length; receivers' input is ignored).
  virtual void broadcast_bytes(std::string& bytes, int root) = 0;
  /// Gathers one byte string from every rank to every rank, in rank order.
  virtual std::vector<std::string> all_gather_bytes(const std::string& bytes) = 0;
  /// Blocks until every rank has arrived.
  virtual void barrier() = 0;
  /// Ends every rank of the job immediately (used when one rank fails).
  [[noreturn]] virtual void abort_job(int exit_code) = 0;

  /// The watchdog that bounds this communicator's collectives (timeout, and where the
  /// job is for its message); null for a backend that never waits on other ranks.
  virtual CollectiveWatchdog* watchdog() { return nullptr; }
  /// Where the job is (e.g. "layer 3", "reduce"), named if a collective times out.
  void set_position(const std::string& layer, const std::string& phase);
  /// The last position set, "layer 3/24, phase reduce"; "" before the first.
  std::string position() const;

  /// Broadcasts a tensor of any shape from `root`: receivers need not know the
  /// shape or dtype in advance. Returns the root's tensor on every rank (in host
  /// memory on the receivers).
  at::Tensor broadcast_tensor(const at::Tensor& tensor_on_root, int root);

 private:
  std::string position_layer_;
  std::string position_phase_;
};

/// The single-process backend: every collective is an identity.
std::unique_ptr<Communicator> make_single_communicator();

#if defined(DCOMP_HAVE_MPI)
/// True when this process was started by mpirun or srun (an MPI launcher's
/// environment variables are present), so MPI should be initialised.
bool launched_by_mpi();
/// Initialises MPI (MPI_THREAD_SERIALIZED) on first use and wraps MPI_COMM_WORLD.
std::unique_ptr<Communicator> make_mpi_communicator();
#endif

}  // namespace dcomp::comm
