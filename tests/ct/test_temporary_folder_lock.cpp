// Temporary folders of earlier runs: a folder locked by a live process is never removed;
// once its process is gone (here a child killed with SIGKILL while holding the lock), a
// folder without saved progress is removed, one with saved progress only when asked.
// A live run's folder names its holder (process id and host), for a run that finds it.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include <sys/wait.h>
#include <unistd.h>

#include "kernels/ct/temporary_folder_lock.hpp"
#include "tests/ct/ct_test_support.hpp"

namespace dcomp::ct {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

// Starts a child that locks `folder` and waits; returns its pid once the lock is held.
pid_t lock_in_child(const fs::path& folder) {
  int ready[2];
  if (::pipe(ready) != 0) throw std::runtime_error("pipe failed");
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(ready[0]);
    try {
      TemporaryFolderLock lock(folder);
      const char byte = 1;
      if (::write(ready[1], &byte, 1) != 1) ::_exit(2);
      ::pause();
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  char byte = 0;
  const bool locked = ::read(ready[0], &byte, 1) == 1;
  ::close(ready[0]);
  if (!locked) throw std::runtime_error("the child could not lock the folder");
  return child;
}

TEST(TemporaryFolderLock, HeldWhileItsProcessLivesAndReleasedBySigkill) {
  ScratchDir scratch;
  const fs::path folder = scratch.path() / "out.tmp-a";
  fs::create_directories(folder);
  EXPECT_FALSE(TemporaryFolderLock::is_held(folder));
  {
    TemporaryFolderLock lock(folder);
    EXPECT_TRUE(TemporaryFolderLock::is_held(folder));
    EXPECT_THROW(TemporaryFolderLock second(folder), std::runtime_error);
  }
  EXPECT_FALSE(TemporaryFolderLock::is_held(folder));

  const pid_t child = lock_in_child(folder);
  EXPECT_TRUE(TemporaryFolderLock::is_held(folder));
  EXPECT_THROW(TemporaryFolderLock taken(folder), std::runtime_error);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_FALSE(TemporaryFolderLock::is_held(folder));
}

TEST(TemporaryFolderLock, RemovesOnlyAbandonedFoldersOfTheSameOutput) {
  ScratchDir scratch;
  const fs::path output = scratch.path() / "out";
  const fs::path unsaved = scratch.path() / "out.tmp-unsaved";
  const fs::path saved = scratch.path() / "out.tmp-saved";
  const fs::path live = scratch.path() / "out.tmp-live";
  const fs::path other = scratch.path() / "other.tmp-x";
  for (const auto& folder : {unsaved, saved, live, other}) fs::create_directories(folder);
  fs::create_directories(saved / "progress");
  std::ofstream(saved / "progress" / "state.json") << "{}";
  std::ofstream(unsaved / "layer-00000.safetensors") << "partial";
  const pid_t child = lock_in_child(live);

  auto removed = remove_abandoned_temporary_folders(output, /*unsaved_only=*/true);
  EXPECT_EQ(removed, std::vector<fs::path>{unsaved});
  EXPECT_TRUE(fs::exists(saved));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(other));

  removed = remove_abandoned_temporary_folders(output, /*unsaved_only=*/false);
  EXPECT_EQ(removed, std::vector<fs::path>{saved});
  EXPECT_TRUE(fs::exists(live)) << "a folder a live run holds is never removed";
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(remove_abandoned_temporary_folders(output, false), std::vector<fs::path>{live});
  EXPECT_TRUE(fs::exists(other));
}

TEST(TemporaryFolderLock, ALiveRunIsFoundAndNamedByItsProcessAndHost) {
  ScratchDir scratch;
  const fs::path output = scratch.path() / "out";
  const fs::path dead = scratch.path() / "out.tmp-dead";
  const fs::path live = scratch.path() / "out.tmp-live";
  fs::create_directories(dead);
  fs::create_directories(live);
  fs::create_directories(scratch.path() / "other.tmp-x");
  // A folder whose holder died (its record stays) is no live run.
  const pid_t died = lock_in_child(dead);
  ::kill(died, SIGKILL);
  ::waitpid(died, nullptr, 0);
  EXPECT_EQ(find_live_run(output), std::nullopt);

  const pid_t child = lock_in_child(live);
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof(host) - 1), 0);
  const auto found = find_live_run(output);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->temporary_folder, live);
  EXPECT_EQ(found->holder, "process " + std::to_string(child) + " on host " + host);
  EXPECT_EQ(find_live_run(output, live), std::nullopt) << "the folder given as this run's own is skipped";
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(find_live_run(output), std::nullopt);
}

TEST(TemporaryFolderLock, TheHolderRecordIsRemovedBeforePublishingAndOnRelease) {
  ScratchDir scratch;
  const fs::path folder = scratch.path() / "out.tmp-a";
  fs::create_directories(folder);
  {
    TemporaryFolderLock lock(folder);
    EXPECT_TRUE(fs::exists(folder / kLockOwnerFile));
    lock.remove_holder_record();
    EXPECT_FALSE(fs::exists(folder / kLockOwnerFile));
    EXPECT_TRUE(TemporaryFolderLock::is_held(folder)) << "the lock itself stays until destruction";
  }
  {
    TemporaryFolderLock lock(folder);
    EXPECT_TRUE(fs::exists(folder / kLockOwnerFile));
  }
  EXPECT_FALSE(fs::exists(folder / kLockOwnerFile));
  EXPECT_EQ(TemporaryFolderLock::recorded_holder(folder), std::nullopt);
}

}  // namespace
}  // namespace dcomp::ct
