// dcomp: post-training compression of large language models, from one process
// to many MPI ranks. This file only parses the command line; every subcommand
// is a thin wrapper over a library call (launch/commands/).
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "launch/cli_errors.hpp"
#include "launch/commands.hpp"
#include "kernels/model/allocation_policy.hpp"
#include "kernels/platform/blas_core_restart.hpp"
#include "lifecycle/logging.hpp"

int main(int argc, char** argv) {
  // First of all: a BLAS that fell back to kernels weaker than this CPU restarts the process
  // with better ones (kernels/platform/blas_core_restart.hpp).
  dcomp::platform::ensure_best_blas_core(argc, argv);
  // Tensors of 1 MiB or more get their own mappings and go back to the system when
  // freed: without this, glibc's adaptive threshold keeps freed layer-sized blocks in
  // its heaps and a streamed run's resident memory creeps up layer after layer. eval and
  // generate, which hold the whole model, keep freed blocks for reuse instead.
  dcomp::model::release_large_blocks_when_freed();
  CLI::App app{"dcomp: compresses large language models after training (GPTQ, AWQ, RTN, FP8, NVFP4 and MXFP4 "
               "quantization, FP8 KV caches, SparseGPT, SmoothQuant) on one process or many MPI ranks, and "
               "writes compressed-tensors checkpoints."};
  app.require_subcommand(0, 1);
  app.fallthrough();
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->default_val("info");
  bool quiet = false;
  app.add_flag("--quiet", quiet, "Only warnings and errors (same as --log-level warn)");
  bool show_version = false;
  app.add_flag("--version", show_version, "Print the version and the backends compiled in");

  dcomp::launch::add_version_command(app);
  dcomp::launch::add_create_model_command(app);
  dcomp::launch::add_oneshot_command(app);
  dcomp::launch::add_slurm_script_command(app);
  dcomp::launch::add_inspect_command(app);
  dcomp::launch::add_generate_command(app);
  dcomp::launch::add_eval_command(app);
  dcomp::launch::add_modifiers_command(app);
  dcomp::launch::add_convert_gguf_command(app);

  app.parse_complete_callback([&] { dcomp::logging::set_level(quiet ? std::string("warn") : log_level); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    return dcomp::launch::report_fatal(e);
  }
  if (show_version) {
    dcomp::launch::print_version(std::cout);
    return 0;
  }
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
    return 0;
  }
  return dcomp::launch::exit_code();
}
