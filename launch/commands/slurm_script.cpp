// `dcomp slurm-script`: prints a ready-to-submit Slurm batch script for a
// multi-node run (one rank per GPU, or per CPU task on CPU-only clusters).
#include <CLI/CLI.hpp>

#include <iostream>
#include <sstream>

#include "launch/commands.hpp"

namespace dcomp::launch {
namespace {

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

void add_slurm_script_command(CLI::App& app) {
  struct Flags {
    std::string model, recipe, scheme = "W4A16", dataset, output, dcomp = "dcomp", time = "04:00:00", partition;
    int nodes = 1, gpus_per_node = 8, cpus_per_task = 8, samples = 512, max_seq_length = 2048;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand("slurm-script",
                                     "Print a Slurm batch script that runs `dcomp oneshot` with one rank per GPU "
                                     "(--gpus-per-node 0: one rank per CPU task) on the given nodes");
  command->add_option("--model", flags->model, "Model folder (as seen from the compute nodes)")->required();
  command->add_option("--recipe", flags->recipe, "Recipe file (default: --scheme)");
  command->add_option("--scheme", flags->scheme, "Preset when no recipe is given")->capture_default_str();
  command->add_option("--dataset", flags->dataset, "Calibration data")->required();
  command->add_option("--output", flags->output, "Output folder")->required();
  command->add_option("--nodes", flags->nodes, "Nodes")->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--gpus-per-node", flags->gpus_per_node, "GPUs (ranks) per node; 0 for CPU-only")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command->add_option("--cpus-per-task", flags->cpus_per_task, "CPUs per rank (its compute threads)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--ranks-per-node", flags->gpus_per_node, "Alias of --gpus-per-node for CPU runs");
  command->add_option("--num-calibration-samples", flags->samples, "Calibration samples")->capture_default_str();
  command->add_option("--max-seq-length", flags->max_seq_length, "Tokens per sample")->capture_default_str();
  command->add_option("--time", flags->time, "Slurm time limit")->capture_default_str();
  command->add_option("--partition", flags->partition, "Slurm partition");
  command->add_option("--dcomp", flags->dcomp, "Path of the dcomp executable on the nodes")->capture_default_str();
  command->callback([flags] {
    const auto& f = *flags;
    const bool gpu = f.gpus_per_node > 0;
    const int tasks_per_node = gpu ? f.gpus_per_node : 1;
    std::ostringstream s;
    s << "#!/usr/bin/env bash\n"
      << "# dcomp oneshot on " << f.nodes << " node(s) x " << tasks_per_node << " rank(s): " << f.nodes * tasks_per_node
      << " ranks in all. Submit with: sbatch <this file>\n"
      << "#SBATCH --job-name=dcomp-oneshot\n"
      << "#SBATCH --nodes=" << f.nodes << "\n"
      << "#SBATCH --ntasks-per-node=" << tasks_per_node << "\n"
      << "#SBATCH --cpus-per-task=" << f.cpus_per_task << "\n";
    if (gpu) s << "#SBATCH --gpus-per-node=" << f.gpus_per_node << "\n";
    if (!f.partition.empty()) s << "#SBATCH --partition=" << f.partition << "\n";
    s << "#SBATCH --time=" << f.time << "\n"
      << "#SBATCH --output=dcomp-oneshot-%j.out\n"
      << "# A preempted or failed job is requeued and continues from its last complete layer (--resume).\n"
      << "#SBATCH --requeue\n"
      << "#SBATCH --open-mode=append\n"
      << "set -euo pipefail\n"
      << "export OMP_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-" << f.cpus_per_task << "}\"\n"
      << "srun --mpi=pmix --kill-on-bad-exit=1 " << quoted(f.dcomp) << " oneshot \\\n"
      << "  --model " << quoted(f.model) << " \\\n"
      << "  " << (f.recipe.empty() ? "--scheme " + quoted(f.scheme) : "--recipe " + quoted(f.recipe)) << " \\\n"
      << "  --dataset " << quoted(f.dataset) << " --num-calibration-samples " << f.samples
      << " --max-seq-length " << f.max_seq_length << " \\\n"
      << "  --output " << quoted(f.output) << (gpu ? " --backend auto" : " --backend mpi") << " --resume\n";
    std::cout << s.str();
  });
}

}  // namespace dcomp::launch
