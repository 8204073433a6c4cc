// Whether every rank sees the folder rank 0 made, asked of all ranks at once: ranks on
// threads of this process, each given its own path (one that exists or not), and the
// message expected written out with the host name read here from gethostname(2).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "pipeline/folder_seen_by_every_rank.hpp"
#include "pipeline/threaded_ranks.hpp"

namespace dcomp::pipeline {
namespace {

namespace fs = std::filesystem;

std::string this_host() {
  char name[256] = {0};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

/// Each rank r asks about folders[r]; returns every rank's answer.
std::vector<std::string> answers_of_ranks(const std::vector<fs::path>& folders) {
  std::vector<std::string> answers(folders.size());
  testing::run_ranks(static_cast<int>(folders.size()), [&](comm::Communicator& comm) {
    const size_t rank = static_cast<size_t>(comm.rank());
    answers[rank] = ranks_not_seeing_folder(folders[rank], comm);
  });
  return answers;
}

TEST(FolderSeenByEveryRank, EveryRankSeeingItGivesNothing) {
  const fs::path folder = fs::temp_directory_path();
  EXPECT_EQ(answers_of_ranks({folder, folder, folder}), (std::vector<std::string>{"", "", ""}));
  auto single = comm::make_single_communicator();
  EXPECT_EQ(ranks_not_seeing_folder(folder, *single), "");
}

TEST(FolderSeenByEveryRank, EveryRankNamesTheSameBlindRanksAndHosts) {
  const fs::path seen = fs::temp_directory_path();
  const fs::path missing = seen / ("dcomp_never_made_" + std::to_string(::getpid()));
  const std::string host = this_host();
  const std::string expected =
      "rank 1 on host " + host + ", rank 3 on host " + host + " (rank 0 is on host " + host + ")";
  EXPECT_EQ(answers_of_ranks({seen, missing, seen, missing}), std::vector<std::string>(4, expected));
}

TEST(FolderSeenByEveryRank, AFileIsNotAFolder) {
  const fs::path file = fs::temp_directory_path() / ("dcomp_plain_file_" + std::to_string(::getpid()));
  { std::ofstream(file.string()) << "x"; }
  const std::string host = this_host();
  EXPECT_EQ(answers_of_ranks({fs::temp_directory_path(), file}),
            std::vector<std::string>(2, "rank 1 on host " + host + " (rank 0 is on host " + host + ")"));
  fs::remove(file);
}

}  // namespace
}  // namespace dcomp::pipeline
