// The progress board over MPI one-sided communication: one window of two int64
// words per rank (collectives entered, heartbeats), locked by every rank for the
// whole job (MPI_Win_lock_all, passive target). A rank writes its own words with
// MPI_Accumulate(MPI_REPLACE) and reads the others' with MPI_Rget_accumulate(MPI_NO_OP)
// (accumulate operations are atomic per element), polling each read with a
// deadline, so that a read of a rank that cannot answer is given up, not waited on.
// Within a node (Open MPI's osc/sm) the reads need nothing of the rank read: a
// stopped rank's progress is read all the same.
// reference: MPI 3.1 standard, 11.5.3 (MPI_Win_lock_all), 11.3.4 (accumulate atomicity),
// 11.3.5 (request-based RMA operations).
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "kernels/comm/collective_watchdog.hpp"

namespace dcomp::comm {

/// Collective over `comm`. Returns null and sets `why_not` when the window cannot be made.
std::unique_ptr<ProgressBoard> make_mpi_progress_board(MPI_Comm comm, std::string* why_not);

}  // namespace dcomp::comm
