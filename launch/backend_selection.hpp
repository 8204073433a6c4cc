// Chooses this process's communicator from --backend and the environment, and
// sets up logging for its rank.
#pragma once

#include <memory>
#include <string>

#include "kernels/comm/communicator.hpp"

namespace dcomp::launch {

/// "auto": NCCL when compiled in and every rank sees a GPU (not used on CPU
/// runs), MPI when launched by mpirun or srun, single otherwise. "single",
/// "mpi", "nccl" force a backend; an unavailable one is an error naming why.
std::unique_ptr<comm::Communicator> make_communicator(const std::string& backend);

/// Intra-op threads for this rank: OMP_NUM_THREADS, else Slurm's
/// SLURM_CPUS_PER_TASK, else the CPUs in this process's affinity mask (what
/// mpirun's binding leaves it), so ranks never oversubscribe cores.
int rank_compute_threads();

}  // namespace dcomp::launch
