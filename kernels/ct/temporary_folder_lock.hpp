// Temporary output folders ("<output>.tmp-<random>") that belong to no live run.
//
// The run that writes a temporary folder holds an exclusive flock(2) on it for its whole
// life; the kernel drops the lock when the process ends in any way, SIGKILL included. A
// folder whose lock can be taken therefore belongs to a run that is over: one that saved
// no progress (no progress/state.json: killed before its first layer, or a failure that
// left nothing to resume) can never be resumed and is removed when the next run of the
// same output starts; once a run has published the output, every abandoned temporary
// folder of that output is superseded and removed too.
// reference: flock(2)
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace dcomp::ct {

/// An exclusive lock on a folder, held until destruction.
class TemporaryFolderLock {
 public:
  /// Locks `folder`; throws std::runtime_error naming it when another process holds it.
  explicit TemporaryFolderLock(const std::filesystem::path& folder);
  ~TemporaryFolderLock();
  TemporaryFolderLock(const TemporaryFolderLock&) = delete;
  TemporaryFolderLock& operator=(const TemporaryFolderLock&) = delete;

  /// True when `folder` is locked by a live process (this one's own locks included).
  static bool is_held(const std::filesystem::path& folder);

 private:
  int descriptor_ = -1;
  std::string key_;  // the folder's canonical path
};

/// Removes the temporary folders of `output` that no live run holds: only those without
/// saved progress when `unsaved_only`, all of them otherwise. Returns what was removed.
std::vector<std::filesystem::path> remove_abandoned_temporary_folders(const std::filesystem::path& output,
                                                                      bool unsaved_only);

}  // namespace dcomp::ct
