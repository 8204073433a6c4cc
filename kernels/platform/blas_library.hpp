// Which BLAS library the process computes with, for the run report: LibTorch reaches BLAS
// through the system's libblas.so.3 (Debian's alternatives pick OpenBLAS, its OpenMP or
// pthreads build, or the slow reference BLAS), and GEMM results can differ in the last bits
// between them, so reproducing a checkpoint byte for byte needs the same one.
#pragma once

#include <string>

namespace dcomp::platform {

/// The resolved paths of the loaded shared objects whose names contain "blas" (e.g.
/// "/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3"), joined by ", "; "" if none
/// (a LibTorch with BLAS linked in statically).
std::string loaded_blas_libraries();

}  // namespace dcomp::platform
