// Makes sure the process computes with the BLAS kernels the CPU deserves: called first
// thing in main() of every dcomp executable (the command, the test programs, the
// benchmarks), before any thread or MPI call. Where the loaded OpenBLAS fell back to
// kernels weaker than the CPU offers and the user did not set OPENBLAS_CORETYPE, the
// process restarts itself (execv of /proc/self/exe, same arguments, same PID: under mpirun
// or srun each rank does this on its own before MPI_Init) with the best core the library
// has, and the restarted process says so once (rank 0, or the only process).
#pragma once

#include <string>

namespace dcomp::platform {

/// The BLAS the process computes with, for `dcomp version` and run reports.
struct BlasCoreStatus {
  std::string library;     // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...", or "" when not OpenBLAS
  std::string core;        // e.g. "Cooperlake"; "" when not OpenBLAS
  std::string how_chosen;  // e.g. "the library's own choice"
  std::string cpu;         // e.g. "GenuineIntel family 6 model 207"
};

/// Decides (decide_blas_core) and, when the decision is a restart, execs; returns only when
/// the process keeps its kernels. Prints the decision's message to stderr once. Test-only:
/// DCOMP_TEST_BLAS_FALLBACK=1 treats an OPENBLAS_CORETYPE the caller set as if the library
/// had chosen that core by itself (to exercise the restart on a CPU the library knows).
void ensure_best_blas_core(int argc, char** argv);

/// What ensure_best_blas_core found (queried afresh if it was not called).
BlasCoreStatus blas_core_status();

/// "OpenBLAS 0.3.21, core Cooperlake (the library's own choice)", for one-line reports.
std::string describe_blas_core(const BlasCoreStatus& status);

}  // namespace dcomp::platform
