// Which single output files (a run report, a logits dump, the calibration text) a command
// may write, checked before any work so that no run can overwrite its own inputs or an
// unrelated file, and fail only at the end.
//
// Refused:
//   - a folder, a filesystem root, or a path whose folder does not exist or cannot be
//     written (the reason from the operating system is given);
//   - any input: the model folder or anything inside it, the dataset, the recipe — also
//     when named through symbolic links or "..", or when the output is a hard link to one
//     of their files (same device and inode);
//   - a path inside the run's output folder, which a later run replaces as a whole;
//   - an existing file that is not a previous output of the same kind: a dcomp run report
//     (a JSON object with dcomp_version, output and layers), a logits dump (a safetensors
//     file holding exactly input_ids, logits and logits_activation_quantized), the
//     built-in calibration text (byte for byte).
// The file is then written atomically: see io::replace_file_with.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "kernels/ct/output_folder_policy.hpp"

namespace dcomp::ct {

/// What a single output file holds; decides which existing file it may replace.
enum class OutputFileKind { RunReport, LogitsDump, CalibrationText };

/// "a dcomp run report", ...: how errors name the kind.
std::string describe(OutputFileKind kind);

/// True when `file` is a previous output of this kind (see above).
bool is_previous_output(const std::filesystem::path& file, OutputFileKind kind);

/// Checks `output` against the rules above; throws OutputFolderError naming `option`
/// ("--report"), the path and the problem. `inputs` with is_folder set also forbid paths
/// inside them; so does `output_folder` when not empty.
void check_output_file(const std::string& option, const std::filesystem::path& output, OutputFileKind kind,
                       const std::vector<RunInput>& inputs, const std::filesystem::path& output_folder = {});

}  // namespace dcomp::ct
