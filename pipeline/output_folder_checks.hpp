// The output folder of a one-shot run, checked before any work: never one that would destroy
// an input or unrelated files, nor one that another live run is writing; and, with --resume,
// the saved progress of an interrupted run of it to continue.
#pragma once

#include <filesystem>
#include <optional>

#include "kernels/comm/communicator.hpp"
#include "pipeline/oneshot_options.hpp"

namespace dcomp::pipeline {

/// Rank 0: refuses an output that a live run is writing (its temporary folder is locked),
/// naming that run's process and host. `own_temporary` (once this run has one) is skipped.
void refuse_output_of_live_run(const OneshotOptions& options, const std::filesystem::path& own_temporary = {});

/// Refuses an output that would destroy an input or unrelated files (ct::check_output_folder)
/// or that another run is writing, before any work, and says what --overwrite will replace.
void check_output(const OneshotOptions& options, const comm::Communicator& comm);

/// Rank 0: an interrupted run of this output to continue (its temporary folder, adopted), after
/// removing the temporary folders of earlier runs that saved nothing (they can never be resumed).
std::optional<std::filesystem::path> find_run_to_resume(const OneshotOptions& options);

}  // namespace dcomp::pipeline
