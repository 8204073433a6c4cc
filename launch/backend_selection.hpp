// Chooses this process's communicator from --backend and the environment, and
// sets up logging for its rank.
#pragma once

#include <memory>
#include <string>

#include "kernels/comm/communicator.hpp"

namespace dcomp::launch {

/// The host communicator: MPI when launched by mpirun or srun ("auto") or asked
/// for ("mpi"; "nccl" also starts MPI, its bootstrap), single otherwise. An
/// unavailable backend is an error naming why.
std::unique_ptr<comm::Communicator> make_communicator(const std::string& backend);

/// The communicator for ranks computing on `device`, built on `host`: NCCL for
/// "nccl", and for "auto" when the ranks compute on GPUs, are more than one and
/// each has a GPU of its own; `host` otherwise (GPU tensors then travel through
/// host memory). "nccl" without a GPU, without NCCL in this build, or with two
/// ranks on one GPU is an error naming the problem. Every rank must call it.
std::unique_ptr<comm::Communicator> make_device_communicator(std::unique_ptr<comm::Communicator> host,
                                                             const std::string& backend, c10::Device device);

/// Intra-op threads for this rank: OMP_NUM_THREADS, else Slurm's
/// SLURM_CPUS_PER_TASK, else the CPUs in this process's affinity mask (what
/// mpirun's binding leaves it), so ranks never oversubscribe cores.
int rank_compute_threads();
/// Refuses more than 4 compute threads per hardware thread (a typo such as 100000 would spawn
/// threads for minutes) and warns above the hardware threads (oversubscribed cores only slow
/// the GEMMs down). `flag` names the option in the messages.
void check_thread_count(int threads, const std::string& flag);

}  // namespace dcomp::launch
