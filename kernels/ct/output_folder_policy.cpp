#include "kernels/ct/output_folder_policy.hpp"

#include <cstdlib>
#include <fstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "kernels/json/bounded_json.hpp"

namespace dcomp::ct {
namespace fs = std::filesystem;

fs::path resolved_path(const fs::path& path) {
  std::error_code error;
  fs::path absolute = fs::absolute(path, error);
  if (error) absolute = path;
  fs::path canonical = fs::weakly_canonical(absolute, error);
  fs::path result = error ? absolute.lexically_normal() : canonical;
  if (result.filename().empty() && result.has_parent_path() && result != result.root_path()) {
    result = result.parent_path();  // "out/" names the folder "out"
  }
  return result;
}

bool path_is_within(const fs::path& inner, const fs::path& outer) {
  auto outer_part = outer.begin();
  auto inner_part = inner.begin();
  for (; outer_part != outer.end(); ++outer_part, ++inner_part) {
    if (inner_part == inner.end() || *inner_part != *outer_part) return false;
  }
  return true;
}

namespace {

bool config_names_compressed_tensors(const fs::path& config_file) {
  std::ifstream in(config_file);
  if (!in) return false;
  nlohmann::json config;
  try {
    config = json_input::parse_bounded_json(json_input::read_bounded_text(in, config_file.string(), json_input::kMaxConfigJsonBytes),
                                    config_file.string());
  } catch (const std::exception&) {
    return false;  // unreadable, oversized or invalid: not a compressed-tensors config
  }
  if (!config.is_object()) return false;
  for (const char* key : {"quantization_config", "compression_config"}) {
    const auto entry = config.find(key);
    if (entry != config.end() && entry->is_object()) {
      const auto method = entry->find("quant_method");
      if (method != entry->end() && method->is_string() && *method == "compressed-tensors") return true;
    }
  }
  return false;
}

}  // namespace

bool is_checkpoint_folder(const fs::path& folder) {
  std::error_code error;
  if (fs::is_regular_file(folder / "dcomp_report.json", error)) return true;
  return config_names_compressed_tensors(folder / "config.json");
}

ExistingOutput check_output_folder(const fs::path& output, const std::vector<RunInput>& inputs, bool overwrite) {
  const fs::path target = resolved_path(output);
  const std::string named = output.string() + (target.string() == output.string() ? "" : " (" + target.string() + ")");
  if (target == target.root_path() || !target.has_filename()) {
    throw OutputFolderError(named + ": the output cannot be a filesystem root");
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0' && resolved_path(home) == target) {
    throw OutputFolderError(named + ": the output cannot be the home folder");
  }
  for (const auto& input : inputs) {
    if (input.path.empty()) continue;
    const fs::path source = resolved_path(input.path);
    if (source == target) {
      throw OutputFolderError(named + ": the output is " + input.role + " (" + input.path.string() +
                              "); choose a new folder");
    }
    if (path_is_within(source, target)) {
      throw OutputFolderError(named + ": the output folder contains " + input.role + " (" + input.path.string() +
                              "), which writing or replacing it would destroy; choose a folder beside it");
    }
    if (input.is_folder && path_is_within(target, source)) {
      throw OutputFolderError(named + ": the output lies inside " + input.role + " (" + input.path.string() +
                              "); choose a folder outside it");
    }
  }

  std::error_code error;
  const auto status = fs::symlink_status(output, error);
  if (error || status.type() == fs::file_type::not_found) return ExistingOutput::Absent;
  if (!fs::is_directory(target, error)) {
    throw OutputFolderError(named + ": exists and is not a folder; the output must be a new folder (or a checkpoint "
                                    "folder to replace with --overwrite)");
  }
  if (!overwrite) {
    throw OutputFolderError(named + ": the output folder already exists (use --overwrite to replace it)");
  }
  if (fs::is_empty(target, error) && !error) return ExistingOutput::EmptyFolder;
  if (is_checkpoint_folder(target)) return ExistingOutput::Checkpoint;
  throw OutputFolderError(named + ": exists and is neither empty nor a checkpoint (dcomp_report.json, or a "
                                  "config.json whose quantization_config is compressed-tensors): --overwrite replaces "
                                  "only those, so that it cannot delete other files");
}

}  // namespace dcomp::ct
