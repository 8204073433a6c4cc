// Temporary output folders ("<output>.tmp-<random>") that belong to no live run.
//
// The run that writes a temporary folder holds an exclusive flock(2) on it for its whole
// life; the kernel drops the lock when the process ends in any way, SIGKILL included. A
// folder whose lock can be taken therefore belongs to a run that is over: one that saved
// no progress (no progress/state.json: killed before its first layer, or a failure that
// left nothing to resume) can never be resumed and is removed when the next run of the
// same output starts; once a run has published the output, every abandoned temporary
// folder of that output is superseded and removed too.
// The lock's holder writes its process id and host name into the folder (kLockOwnerFile),
// so that a run finding the folder locked names the run that holds it; the file is
// removed before the folder is published as the output.
// reference: flock(2)
#pragma once

#include <filesystem>
#include <optional>
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

  /// "process 1234 on host node07": who holds (or last held) the lock on `folder`, as its
  /// holder recorded it; nullopt when no holder is recorded.
  static std::optional<std::string> recorded_holder(const std::filesystem::path& folder);

  /// Removes the holder's record from the folder (before it is published: the record is
  /// no part of the output). The lock itself is held until destruction.
  void remove_holder_record() noexcept;

 private:
  int descriptor_ = -1;
  std::string key_;  // the folder's canonical path
  std::filesystem::path holder_record_;
};

/// The file, inside a locked folder, naming the process that holds the lock.
inline constexpr const char* kLockOwnerFile = ".dcomp-lock-owner";

/// A temporary folder of an output that a live run holds.
struct LiveRun {
  std::filesystem::path temporary_folder;
  std::string holder;  // recorded_holder(), or "a process whose id is not recorded"
};

/// The first temporary folder "<output>.tmp-*" that a live run holds, other than `except`.
std::optional<LiveRun> find_live_run(const std::filesystem::path& output,
                                     const std::filesystem::path& except = {});

/// Removes the temporary folders of `output` that no live run holds: only those without
/// saved progress when `unsaved_only`, all of them otherwise. Returns what was removed.
std::vector<std::filesystem::path> remove_abandoned_temporary_folders(const std::filesystem::path& output,
                                                                      bool unsaved_only);

}  // namespace dcomp::ct
