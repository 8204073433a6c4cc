#include "launch/backend_selection.hpp"

#include <sched.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <map>
#include <stdexcept>
#include <thread>

#include "dcomp/build_info.hpp"
#include "kernels/platform/host_name.hpp"
#include "kernels/platform/launcher_environment.hpp"
#if defined(DCOMP_HAVE_NCCL)
#include "kernels/comm/nccl_communicator.hpp"
#endif

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
#if defined(DCOMP_HAVE_MPI)
    return comm::make_mpi_communicator();  // the bootstrap; make_device_communicator adds NCCL
#else
    throw std::runtime_error("--backend nccl: this dcomp was built without MPI, which starts NCCL");
#endif
  }
  throw std::invalid_argument("--backend must be auto, single, mpi or nccl, not '" + backend + "'");
}

std::unique_ptr<comm::Communicator> make_device_communicator(std::unique_ptr<comm::Communicator> host,
                                                             const std::string& backend, c10::Device device) {
  if (backend != "nccl" && !(backend == "auto" && device.is_cuda() && host->world_size() > 1)) return host;
  if (!device.is_cuda()) {
    throw std::runtime_error("--backend nccl moves GPU buffers, but this rank computes on the CPU: use "
                             "--device cuda on a machine with GPUs, or --backend mpi");
  }
#if defined(DCOMP_HAVE_NCCL)
  // NCCL needs one GPU per rank: find ranks that would share one.
  const std::string mine = platform::host_name() + " cuda:" + std::to_string(device.index());
  const std::vector<std::string> all = host->all_gather_bytes(mine);
  std::string shared;
  std::map<std::string, int> first_rank;
  for (int rank = 0; rank < static_cast<int>(all.size()); ++rank) {
    auto [it, inserted] = first_rank.emplace(all[static_cast<size_t>(rank)], rank);
    if (!inserted && shared.empty()) {
      shared = "ranks " + std::to_string(it->second) + " and " + std::to_string(rank) + " share " + it->first;
    }
  }
  if (!shared.empty()) {
    if (backend == "nccl") {
      throw std::runtime_error("--backend nccl needs one GPU per rank, but " + shared +
                               ": start at most as many ranks per node as it has GPUs, or use --backend mpi");
    }
    spdlog::info("ranks share GPUs ({}): reducing through host memory over MPI instead of NCCL", shared);
    return host;
  }
  const int index = device.index();
  return comm::make_nccl_communicator(std::move(host), index);
#else
  if (backend == "nccl") throw std::runtime_error("--backend nccl: this dcomp was built without NCCL");
  return host;
#endif
}

void check_thread_count(int threads, const std::string& flag) {
  const unsigned reported = std::thread::hardware_concurrency();
  const int hardware = reported > 0 ? static_cast<int>(reported) : 1;
  if (threads > 4 * hardware) {
    throw std::runtime_error(flag + " " + std::to_string(threads) + ": more than 4 threads per hardware thread (" +
                             std::to_string(hardware) + " on this machine)");
  }
  if (threads > hardware) {
    spdlog::warn("{} {}: more compute threads than the machine's {} hardware threads; the GEMMs will be slower",
                 flag, threads, hardware);
  }
}

int rank_compute_threads() {
  if (const int threads = platform::threads_from_launcher()) return threads;
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
