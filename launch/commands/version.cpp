// `dcomp version` / `dcomp --version` and the CLI's error reporting.
#include <CLI/CLI.hpp>

#include <ATen/Parallel.h>
#include <torch/csrc/api/include/torch/version.h>

#include <iostream>

#include "dcomp/build_info.hpp"
#include "launch/cli_errors.hpp"
#include "launch/commands.hpp"
#include "kernels/model/compute_device.hpp"
#include "kernels/platform/blas_core_restart.hpp"
#include "kernels/platform/blas_library.hpp"

namespace dcomp::launch {
namespace {
int g_exit_code = 0;
}

int report_fatal(const std::exception& error) {
  std::cerr << "dcomp: error: " << error.what() << std::endl;
  return 1;
}

int exit_code() { return g_exit_code; }
void set_exit_code(int code) { g_exit_code = code; }

void print_version(std::ostream& out) {
  const model::CudaAvailability cuda = model::probe_cuda();
  out << "dcomp " << build_info::version << "\n"
      << "backends: single, MPI " << (build_info::has_mpi ? "yes" : "no") << ", NCCL "
      << (build_info::has_nccl ? "yes" : "no") << ", CUDA " << (build_info::has_cuda ? "yes" : "no") << "\n"
      << "LibTorch " << TORCH_VERSION << ", CUDA " << (cuda.libtorch_has_cuda ? "yes" : "no") << ", GPUs visible "
      << cuda.device_count << "\n";
  const platform::BlasCoreStatus blas = platform::blas_core_status();
  const std::string paths = platform::loaded_blas_libraries();
  out << "BLAS: " << platform::describe_blas_core(blas) << (paths.empty() ? "" : ", loaded from " + paths) << "\n"
      << "CPU: " << blas.cpu << "\n";
}

void add_version_command(CLI::App& app) {
  auto* command = app.add_subcommand("version", "Print the version and the backends compiled in");
  command->callback([] { print_version(std::cout); });
}

}  // namespace dcomp::launch
