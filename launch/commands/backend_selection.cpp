#include "launch/backend_selection.hpp"

#include <sched.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "dcomp/build_info.hpp"

namespace dcomp::launch {

std::unique_ptr<comm::Communicator> make_communicator(const std::string& backend) {
  if (backend == "single") return comm::make_single_communicator();
  if (backend == "mpi" || (backend == "auto")) {
#if defined(DCOMP_HAVE_MPI)
    if (backend == "mpi" || comm::launched_by_mpi()) return comm::make_mpi_communicator();
#else
    if (backend == "mpi") throw std::runtime_error("--backend mpi: this dcomp was built without MPI");
#endif
    return comm::make_single_communicator();
  }
  if (backend == "nccl") {
    throw std::runtime_error("--backend nccl: the NCCL backend moves GPU buffers; this build runs layers on the "
                             "CPU (LibTorch without CUDA), so use --backend mpi");
  }
  throw std::invalid_argument("--backend must be auto, single, mpi or nccl, not '" + backend + "'");
}

int rank_compute_threads() {
  auto positive = [](const char* name) -> int {
    const char* value = std::getenv(name);
    if (!value || !*value) return 0;
    char* end = nullptr;
    long parsed = std::strtol(value, &end, 10);
    return (end != value && *end == '\0' && parsed > 0 && parsed < 4096) ? static_cast<int>(parsed) : 0;
  };
  if (int threads = positive("OMP_NUM_THREADS")) return threads;
  if (int threads = positive("SLURM_CPUS_PER_TASK")) return threads;
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) {
    int count = CPU_COUNT(&mask);
    if (count > 0) return count;
  }
  unsigned hardware = std::thread::hardware_concurrency();
  return hardware > 0 ? static_cast<int>(hardware) : 1;
}

}  // namespace dcomp::launch
