// reference: see temporary_folder_lock.hpp
#include "kernels/ct/temporary_folder_lock.hpp"

#include "kernels/platform/host_name.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>

namespace dcomp::ct {
namespace fs = std::filesystem;

namespace {

// flock(2) locks belong to open file descriptions: a second open of a folder this process
// has locked could take the lock again, so this process's own folders are listed here.
std::mutex held_mutex;
std::set<std::string>& held_by_this_process() {
  static std::set<std::string> held;
  return held;
}

std::string key_of(const fs::path& folder) {
  std::error_code error;
  const fs::path canonical = fs::weakly_canonical(folder, error);
  return (error ? fs::absolute(folder) : canonical).string();
}

/// Records "<pid> <host>" in the folder; a failure only costs the name in a later message.
fs::path record_holder(const fs::path& folder) {
  const fs::path record = folder / kLockOwnerFile;
  std::ofstream stream(record, std::ios::trunc);
  stream << ::getpid() << ' ' << platform::host_name() << '\n';
  return stream ? record : fs::path();
}

}  // namespace

TemporaryFolderLock::TemporaryFolderLock(const fs::path& folder) {
  descriptor_ = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (descriptor_ < 0) {
    throw std::runtime_error(folder.string() + ": cannot open the temporary folder to lock it: " +
                             std::strerror(errno));
  }
  if (::flock(descriptor_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(descriptor_);
    descriptor_ = -1;
    throw std::runtime_error(folder.string() + (error == EWOULDBLOCK
                                                    ? ": another dcomp run is writing this temporary folder"
                                                    : ": cannot lock the temporary folder: " +
                                                          std::string(std::strerror(error))));
  }
  key_ = key_of(folder);
  holder_record_ = record_holder(folder);
  std::lock_guard<std::mutex> guard(held_mutex);
  held_by_this_process().insert(key_);
}

TemporaryFolderLock::~TemporaryFolderLock() {
  if (descriptor_ < 0) return;
  remove_holder_record();  // a folder kept for --resume: the next run records itself
  ::close(descriptor_);  // releases the lock
  std::lock_guard<std::mutex> guard(held_mutex);
  held_by_this_process().erase(key_);
}

bool TemporaryFolderLock::is_held(const fs::path& folder) {
  {
    std::lock_guard<std::mutex> guard(held_mutex);
    if (held_by_this_process().count(key_of(folder))) return true;
  }
  const int descriptor = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (descriptor < 0) return false;
  const bool held = ::flock(descriptor, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(descriptor);
  return held;
}

void TemporaryFolderLock::remove_holder_record() noexcept {
  if (holder_record_.empty()) return;
  std::error_code ignored;
  fs::remove(holder_record_, ignored);
  holder_record_.clear();
}

std::optional<std::string> TemporaryFolderLock::recorded_holder(const fs::path& folder) {
  std::ifstream stream(folder / kLockOwnerFile);
  long pid = 0;
  std::string host;
  if (!(stream >> pid >> host) || pid <= 0) return std::nullopt;
  return "process " + std::to_string(pid) + " on host " + host;
}

std::optional<LiveRun> find_live_run(const fs::path& output, const fs::path& except) {
  const fs::path absolute = fs::absolute(output).lexically_normal();
  const std::string prefix = absolute.filename().string() + ".tmp-";
  const std::string skipped = except.empty() ? std::string() : key_of(except);
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(absolute.parent_path(), error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || !entry.is_directory(error)) continue;
    if (!skipped.empty() && key_of(entry.path()) == skipped) continue;
    if (!TemporaryFolderLock::is_held(entry.path())) continue;
    const auto holder = TemporaryFolderLock::recorded_holder(entry.path());
    return LiveRun{entry.path(), holder ? *holder : "a process whose id is not recorded"};
  }
  return std::nullopt;
}

std::vector<fs::path> remove_abandoned_temporary_folders(const fs::path& output, bool unsaved_only) {
  const fs::path absolute = fs::absolute(output).lexically_normal();
  const fs::path parent = absolute.parent_path();
  const std::string prefix = absolute.filename().string() + ".tmp-";
  std::vector<fs::path> removed;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(parent, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || !entry.is_directory(error)) continue;
    if (unsaved_only && fs::exists(entry.path() / "progress" / "state.json", error)) continue;
    if (TemporaryFolderLock::is_held(entry.path())) continue;
    std::error_code remove_error;
    fs::remove_all(entry.path(), remove_error);
    if (!remove_error) removed.push_back(entry.path());
  }
  return removed;
}

}  // namespace dcomp::ct
