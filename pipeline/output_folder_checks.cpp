#include "pipeline/output_folder_checks.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <system_error>
#include <vector>

#include "kernels/ct/output_folder_policy.hpp"
#include "kernels/ct/temporary_folder_lock.hpp"
#include "pipeline/run_progress.hpp"

namespace dcomp::pipeline {

void refuse_output_of_live_run(const OneshotOptions& options, const std::filesystem::path& own_temporary) {
  const auto live = ct::find_live_run(options.output, own_temporary);
  if (!live) return;
  throw std::runtime_error(options.output.string() + ": another dcomp run (" + live->holder +
                           ") is writing this output in " + live->temporary_folder.string() +
                           "; wait for it to end, or stop it and continue its work with --resume");
}

void check_output(const OneshotOptions& options, const comm::Communicator& comm) {
  std::vector<ct::RunInput> inputs{{"the model folder", options.model, /*is_folder=*/true}};
  if (options.dataset) inputs.push_back({"the dataset", *options.dataset, /*is_folder=*/false});
  std::error_code error;
  if (options.recipe && options.recipe->size() < 4096 && std::filesystem::is_regular_file(*options.recipe, error)) {
    inputs.push_back({"the recipe", *options.recipe, /*is_folder=*/false});
  }
  const auto existing = ct::check_output_folder(options.output, inputs, options.overwrite);
  if (comm.rank() != 0) return;
  refuse_output_of_live_run(options);
  if (existing == ct::ExistingOutput::Checkpoint) {
    spdlog::warn("--overwrite: {} holds a checkpoint; it is replaced when this run finishes", options.output.string());
  } else if (existing == ct::ExistingOutput::EmptyFolder) {
    spdlog::info("--overwrite: {} is an empty folder; it is replaced when this run finishes", options.output.string());
  }
}

std::optional<std::filesystem::path> find_run_to_resume(const OneshotOptions& options) {
  for (const auto& removed : ct::remove_abandoned_temporary_folders(options.output, /*unsaved_only=*/true)) {
    spdlog::info("removed {}: the temporary folder of an earlier run of this output that saved no layer",
                 removed.string());
  }
  const auto interrupted = find_interrupted_run(options.output);
  if (options.resume && interrupted) return interrupted;
  if (options.resume) {
    spdlog::info("--resume: no saved progress for {}; starting from the first layer", options.output.string());
  } else if (interrupted) {
    spdlog::warn("{} holds the saved progress of an interrupted run of this output; add --resume to continue it",
                 interrupted->string());
  }
  return std::nullopt;
}

}  // namespace dcomp::pipeline
