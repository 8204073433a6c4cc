// What the launcher (mpirun, srun, torchrun-style wrappers) tells each rank through the
// environment, read in this one module: the rank's index on its node, how many ranks share the
// node, whether an MPI launcher started the process, and the CPUs a task was given.
//
// Ranks on a node: mpirun says it in OMPI_COMM_WORLD_LOCAL_SIZE (MPICH's Hydra in MPI_LOCALNRANKS).
// srun sets neither (Open MPI started by srun --mpi=pmix does not either): there the step's layout
// says it, SLURM_STEP_TASKS_PER_NODE ("2(x3),1": 2 tasks on each of the step's first three nodes,
// 1 on the fourth) read at this node's index in the step, SLURM_NODEID.
// SLURM_NTASKS_PER_NODE is only the job's --ntasks-per-node request: unset without one
// (`srun -N 2 -n 4`), and wrong for a step placed otherwise (`srun -n 2` in a 2-node
// allocation of 2 tasks per node runs 1 per node), so it is read last.
#pragma once

#include <functional>
#include <string>

namespace dcomp::platform {

/// Reads an environment variable (null when unset); injectable for tests.
using EnvironmentLookup = std::function<const char*(const char*)>;

/// The process's own environment (std::getenv).
const char* process_environment(const char* name);

/// This rank's index on its node: LOCAL_RANK, then OMPI_COMM_WORLD_LOCAL_RANK,
/// then SLURM_LOCALID; 0 when none is set. A set but malformed value (not a
/// non-negative integer) throws std::invalid_argument naming the variable.
int local_rank_from_environment(const EnvironmentLookup& lookup = process_environment);

/// The number of ranks on this rank's node (at least 1): OMPI_COMM_WORLD_LOCAL_SIZE, then
/// MPI_LOCALNRANKS, then the Slurm step's layout (SLURM_STEP_TASKS_PER_NODE at SLURM_NODEID),
/// then SLURM_NTASKS_PER_NODE; 1 when none is set. A set but malformed value throws
/// std::invalid_argument naming the variable and its value.
int ranks_on_this_node(const EnvironmentLookup& lookup = process_environment);

/// The tasks on node `node` (0-based) of a Slurm task count list, "2(x3),1" style.
/// Throws std::invalid_argument when the list is malformed or has no such node.
int slurm_tasks_on_node(const std::string& tasks_per_node, int node);

/// Whether an MPI launcher started this process: Open MPI's mpirun (OMPI_COMM_WORLD_SIZE), a PMIx
/// or PMI launcher (PMIX_RANK, PMI_RANK, PMI_SIZE: srun --mpi=pmix, Hydra), or MPICH's mpiexec
/// (MPI_LOCALNRANKS).
bool launched_by_mpi_launcher(const EnvironmentLookup& lookup = process_environment);

/// The compute threads the job gave this task: OMP_NUM_THREADS, then Slurm's
/// SLURM_CPUS_PER_TASK (a whole number in 1..4095); 0 when neither is set to one.
int threads_from_launcher(const EnvironmentLookup& lookup = process_environment);

}  // namespace dcomp::platform
