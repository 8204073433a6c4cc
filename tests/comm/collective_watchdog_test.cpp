// The collective watchdog against a scripted progress board: which ranks a timed-out
// rank names, the message and exit code it ends the job with, and how little CPU a
// rank uses while it waits.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "kernels/comm/collective_watchdog.hpp"

namespace dcomp::comm {
namespace {

using std::chrono::milliseconds;

/// A board whose readings are given: the first read_all returns `first`, later ones `second`.
class ScriptedBoard final : public ProgressBoard {
 public:
  ScriptedBoard(std::vector<std::optional<RankProgress>> first, std::vector<std::optional<RankProgress>> second,
                std::vector<RankProgress>* published)
      : first_(std::move(first)), second_(std::move(second)), published_(published) {}
  void publish(const RankProgress& progress) override { published_->push_back(progress); }
  std::vector<std::optional<RankProgress>> read_all(milliseconds) override { return reads_++ == 0 ? first_ : second_; }

 private:
  std::vector<std::optional<RankProgress>> first_, second_;
  std::vector<RankProgress>* published_;
  int reads_ = 0;
};

struct JobEnded : std::runtime_error {
  JobEnded(int code, const std::string& message) : std::runtime_error(message), exit_code(code) {}
  int exit_code;
};

CollectiveWatchdog::AbortJob throw_instead_of_aborting() {
  return [](int code, const std::string& message) { throw JobEnded(code, message); };
}

double cpu_seconds() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

TEST(CollectiveWatchdog, NamesTheRankBehindAndEndsTheJobWithTheTimeoutCode) {
  std::vector<RankProgress> published;
  // Rank 0 waits in its 3rd collective; rank 1 entered only 2, rank 2 is waiting beside rank 0.
  std::vector<std::optional<RankProgress>> first{RankProgress{3, 5}, RankProgress{2, 0}, RankProgress{3, 7}};
  std::vector<std::optional<RankProgress>> second{RankProgress{3, 6}, RankProgress{2, 0}, RankProgress{3, 9}};
  CollectiveWatchdog watchdog(0, 3, std::make_unique<ScriptedBoard>(first, second, &published),
                              throw_instead_of_aborting());
  watchdog.set_timeout(milliseconds(200));
  watchdog.set_position("layer 3", "reduce");
  watchdog.set_kept_folder("/runs/out.tmp-abc");
  for (int i = 0; i < 3; ++i) watchdog.enter();
  ASSERT_EQ(published.size(), 3u);
  EXPECT_EQ(published.back().entered, 3);
  const auto started = std::chrono::steady_clock::now();
  try {
    watchdog.wait("all_reduce", [] { return false; });
    FAIL() << "the wait returned although the collective never completed";
  } catch (const JobEnded& ended) {
    EXPECT_EQ(ended.exit_code, kCollectiveTimeoutExitCode);
    EXPECT_STREQ(ended.what(),
                 "collective timeout after 0.2 s in all_reduce (layer 3, phase reduce): rank 1 did not arrive; "
                 "the temporary folder /runs/out.tmp-abc is kept for --resume");
  }
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(200));
  // A heartbeat was published while waiting (every 100 ms).
  EXPECT_GT(published.size(), 3u);
}

TEST(CollectiveWatchdog, ReturnsAsSoonAsTheCollectiveCompletes) {
  std::vector<RankProgress> published;
  CollectiveWatchdog watchdog(1, 2, std::make_unique<ScriptedBoard>(std::vector<std::optional<RankProgress>>{},
                                                                    std::vector<std::optional<RankProgress>>{},
                                                                    &published),
                              throw_instead_of_aborting());
  watchdog.set_timeout(milliseconds(5000));
  watchdog.enter();
  int polls = 0;
  EXPECT_NO_THROW(watchdog.wait("barrier", [&] { return ++polls == 50; }));
  EXPECT_EQ(polls, 50);
}

TEST(CollectiveWatchdog, AWaitingRankSleepsInsteadOfSpinning) {
  std::vector<RankProgress> published;
  CollectiveWatchdog watchdog(0, 2, std::make_unique<ScriptedBoard>(std::vector<std::optional<RankProgress>>{},
                                                                    std::vector<std::optional<RankProgress>>{},
                                                                    &published),
                              throw_instead_of_aborting());
  watchdog.enter();
  const auto until = std::chrono::steady_clock::now() + milliseconds(600);
  const double cpu_before = cpu_seconds();
  watchdog.wait("broadcast", [&] { return std::chrono::steady_clock::now() >= until; });
  const double cpu_used = cpu_seconds() - cpu_before;
  // A spinning wait would use the whole 0.6 s; sleeps of up to 1 ms use a few percent.
  EXPECT_LT(cpu_used, 0.6 * 0.2) << "CPU seconds used while waiting 0.6 s";
}

TEST(CollectiveWatchdog, WithoutABoardSaysWhyTheStragglersAreUnknown) {
  CollectiveWatchdog watchdog(1, 2, nullptr, throw_instead_of_aborting(), "MPI_Win_allocate failed: no osc");
  watchdog.set_timeout(milliseconds(20));
  watchdog.enter();
  try {
    watchdog.wait("broadcast_bytes", [] { return false; });
    FAIL() << "the wait returned";
  } catch (const JobEnded& ended) {
    EXPECT_EQ(std::string(ended.what()),
              "collective timeout after 0.02 s in broadcast_bytes (phase start): the ranks that did not arrive are "
              "unknown (MPI_Win_allocate failed: no osc)");
  }
}

TEST(FindStragglers, SeparatesRanksBehindStalledAndUnreadable) {
  // This is rank 0 in its 7th collective.
  std::vector<std::optional<RankProgress>> first{RankProgress{7, 1}, RankProgress{6, 4}, RankProgress{7, 2},
                                                 RankProgress{7, 3}, std::nullopt, RankProgress{8, 0}};
  std::vector<std::optional<RankProgress>> second{RankProgress{7, 2}, RankProgress{6, 4}, RankProgress{7, 2},
                                                  RankProgress{7, 4}, std::nullopt, RankProgress{8, 0}};
  const StragglerReport report = find_stragglers(0, 7, first, second);
  EXPECT_EQ(report.not_arrived, std::vector<int>{1});
  EXPECT_EQ(report.stalled, std::vector<int>{2});  // in the collective, heartbeat unchanged
  EXPECT_EQ(report.silent, std::vector<int>{4});
  // Rank 3 waits beside rank 0 (new heartbeat); rank 5 is ahead (a broadcast's root went on).
  EXPECT_EQ(describe_stragglers(report),
            "rank 1 did not arrive; rank 2 entered it but stopped progressing; rank 4 did not answer (its progress "
            "could not be read)");
  EXPECT_EQ(describe_stragglers(find_stragglers(2, 5, {RankProgress{3, 0}, RankProgress{4, 0}, RankProgress{5, 0}},
                                                {RankProgress{3, 0}, RankProgress{4, 0}, RankProgress{5, 0}})),
            "ranks 0, 1 did not arrive");
  EXPECT_EQ(describe_stragglers(StragglerReport{}),
            "every rank entered it and is still waiting (do the ranks run different collectives?)");
}

}  // namespace
}  // namespace dcomp::comm
