// How many ranks of the job share this rank's node (its CPU cores, its GPUs), as the
// launcher placed them.
//
// mpirun says it in OMPI_COMM_WORLD_LOCAL_SIZE (MPICH's Hydra in MPI_LOCALNRANKS). srun sets
// neither (Open MPI started by srun --mpi=pmix does not either): there the step's layout says
// it, SLURM_STEP_TASKS_PER_NODE ("2(x3),1": 2 tasks on each of the step's first three nodes,
// 1 on the fourth) read at this node's index in the step, SLURM_NODEID.
// SLURM_NTASKS_PER_NODE is only the job's --ntasks-per-node request: unset without one
// (`srun -N 2 -n 4`), and wrong for a step placed otherwise (`srun -n 2` in a 2-node
// allocation of 2 tasks per node runs 1 per node), so it is read last.
#pragma once

#include "kernels/model/compute_device.hpp"

namespace dcomp::model {

/// The number of ranks on this rank's node (at least 1): OMPI_COMM_WORLD_LOCAL_SIZE, then
/// MPI_LOCALNRANKS, then the Slurm step's layout (SLURM_STEP_TASKS_PER_NODE at SLURM_NODEID),
/// then SLURM_NTASKS_PER_NODE; 1 when none is set. A set but malformed value throws
/// std::invalid_argument naming the variable and its value.
int ranks_on_this_node(const EnvironmentLookup& lookup);
int ranks_on_this_node();

/// The tasks on node `node` (0-based) of a Slurm task count list, "2(x3),1" style.
/// Throws std::invalid_argument when the list is malformed or has no such node.
int slurm_tasks_on_node(const std::string& tasks_per_node, int node);

}  // namespace dcomp::model
