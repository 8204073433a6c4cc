// reference: see output_file_policy.hpp; stat(2) st_dev/st_ino for hard links, open(2) O_EXCL for the
// probe of the output folder.
#include "kernels/ct/output_file_policy.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "kernels/io/durable_files.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/synthetic_model.hpp"

namespace dcomp::ct {
namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kLargestReportBytes = 256u << 20;  // reports are kilobytes; never parse a huge file

using FileIdentity = std::pair<dev_t, ino_t>;

std::optional<FileIdentity> identity_of(const fs::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return std::nullopt;
  return FileIdentity{status.st_dev, status.st_ino};
}

// The identities of `input` (a file) or of every file below it (a folder).
std::set<FileIdentity> identities_of(const RunInput& input) {
  std::set<FileIdentity> identities;
  if (const auto own = identity_of(input.path)) identities.insert(*own);
  if (!input.is_folder) return identities;
  std::error_code error;
  for (fs::recursive_directory_iterator entry(input.path, error), end; !error && entry != end; entry.increment(error)) {
    if (const auto file = identity_of(entry->path())) identities.insert(*file);
  }
  return identities;
}

bool is_run_report(const fs::path& file) {
  std::error_code error;
  const auto size = fs::file_size(file, error);
  if (error || size > kLargestReportBytes) return false;
  std::ifstream in(file);
  const auto report = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return report.is_object() && report.contains("dcomp_version") && report["dcomp_version"].is_string() &&
         report.contains("output") && report["output"].is_string() && report.contains("layers");
}

bool is_logits_dump(const fs::path& file) {
  try {
    const auto dump = io::SafetensorsFile::open(file);
    const std::vector<std::string> stored = dump->names();
    const std::set<std::string> names(stored.begin(), stored.end());
    return names == std::set<std::string>{"input_ids", "logits", "logits_activation_quantized"};
  } catch (const std::exception&) {
    return false;
  }
}

bool is_calibration_text(const fs::path& file) {
  const std::string& text = model::builtin_calibration_text();
  std::error_code error;
  if (fs::file_size(file, error) != text.size() || error) return false;
  std::ifstream in(file, std::ios::binary);
  const std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return contents == text;
}

// Creates and removes a file in `folder`: the one test of writability that holds for root,
// read-only mounts, full inode tables and ACLs alike. Returns the reason on failure.
std::string probe_writable(const fs::path& folder) {
  const fs::path probe = folder / (".dcomp-write-probe-" + io::random_name_suffix());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return std::strerror(errno);
  ::close(fd);
  ::unlink(probe.c_str());
  return "";
}

}  // namespace

std::string describe(OutputFileKind kind) {
  switch (kind) {
    case OutputFileKind::RunReport: return "a dcomp run report (JSON)";
    case OutputFileKind::LogitsDump: return "a logits dump (safetensors with input_ids, logits and "
                                            "logits_activation_quantized)";
    case OutputFileKind::CalibrationText: return "dcomp's built-in calibration text";
  }
  return "a dcomp output";
}

bool is_previous_output(const fs::path& file, OutputFileKind kind) {
  switch (kind) {
    case OutputFileKind::RunReport: return is_run_report(file);
    case OutputFileKind::LogitsDump: return is_logits_dump(file);
    case OutputFileKind::CalibrationText: return is_calibration_text(file);
  }
  return false;
}

void check_output_file(const std::string& option, const fs::path& output, OutputFileKind kind,
                       const std::vector<RunInput>& inputs, const fs::path& output_folder) {
  const fs::path target = resolved_path(output);
  const std::string named = option + " " + output.string() +
                            (target.string() == output.string() ? "" : " (" + target.string() + ")");
  auto refuse = [&](const std::string& problem) { throw OutputFolderError(named + ": " + problem); };
  if (output.empty() || target == target.root_path() || !target.has_filename()) refuse("not a file name");

  const auto identity = identity_of(target);
  for (const auto& input : inputs) {
    if (input.path.empty()) continue;
    const fs::path source = resolved_path(input.path);
    if (source == target) refuse("this is " + input.role + " (" + input.path.string() + "); choose a new file");
    if (input.is_folder && path_is_within(target, source)) {
      refuse("this lies inside " + input.role + " (" + input.path.string() + "); choose a file outside it");
    }
    if (identity && identities_of(input).count(*identity)) {
      refuse("this is a hard link to a file of " + input.role + " (" + input.path.string() + "); choose a new file");
    }
  }
  if (!output_folder.empty() && path_is_within(target, resolved_path(output_folder))) {
    refuse("this lies inside the output folder " + output_folder.string() +
           ", which is written (and replaced by --overwrite) as a whole; choose a file outside it");
  }

  const fs::path folder = target.parent_path();
  std::error_code error;
  if (!fs::is_directory(folder, error)) refuse("the folder " + folder.string() + " does not exist");
  if (const std::string reason = probe_writable(folder); !reason.empty()) {
    refuse("cannot write in " + folder.string() + ": " + reason);
  }
  const auto status = fs::status(target, error);
  if (status.type() == fs::file_type::not_found) return;
  if (status.type() != fs::file_type::regular) refuse("exists and is not a regular file");
  if (!is_previous_output(target, kind)) {
    refuse("exists and is not " + describe(kind) + "; only such a file is replaced, so that no other file is lost");
  }
}

}  // namespace dcomp::ct
