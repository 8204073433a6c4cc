// Which output folders a compression run may write, and which existing folders
// --overwrite may replace, so that no run can destroy its own inputs or unrelated files.
//
// Refused, with or without --overwrite:
//   - a filesystem root or the user's home folder;
//   - the model folder, a folder inside it, or a folder that contains it;
//   - a folder that contains an input file (the dataset, a recipe file), or that input file
//     itself. A folder beside the inputs (e.g. OUT next to calib.txt) is fine;
//   - an existing path that is not a folder.
// An existing output folder is replaced (--overwrite) only when it is empty or holds a
// checkpoint: a dcomp run report (dcomp_report.json), or a config.json whose
// quantization_config has quant_method "compressed-tensors". Anything else is refused.
// Paths are compared after resolving symbolic links and "..".
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace dcomp::ct {

/// An output folder that must not be written or replaced; the message names it and why.
class OutputFolderError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One input of a run, named in errors as `role` ("the model folder", "the dataset").
struct RunInput {
  std::string role;
  std::filesystem::path path;
  bool is_folder = false;
};

/// What an existing output holds.
enum class ExistingOutput { Absent, EmptyFolder, Checkpoint };

/// Checks `output` against the rules above. Returns what --overwrite would replace
/// (Absent when nothing is there); throws OutputFolderError otherwise.
ExistingOutput check_output_folder(const std::filesystem::path& output, const std::vector<RunInput>& inputs,
                                   bool overwrite);

/// The absolute form of `path` with symbolic links and ".." resolved as far as it exists
/// ("out/" names the folder "out").
std::filesystem::path resolved_path(const std::filesystem::path& path);

/// True when `inner` is `outer` or lies below it (both resolved_path results).
bool path_is_within(const std::filesystem::path& inner, const std::filesystem::path& outer);

/// True when `folder` holds a dcomp or compressed-tensors checkpoint (see above).
bool is_checkpoint_folder(const std::filesystem::path& folder);

}  // namespace dcomp::ct
