// reference: see collective_watchdog.hpp
#include "kernels/comm/collective_watchdog.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <thread>

namespace dcomp::comm {
namespace {

using Clock = std::chrono::steady_clock;

// A waiting rank publishes a heartbeat this often; the stragglers are read twice, this
// far apart, so that a rank waiting in the collective shows a new heartbeat in between.
constexpr std::chrono::milliseconds kHeartbeatPeriod{100};
constexpr std::chrono::milliseconds kHeartbeatCheck{1000};
// How long one read of another rank's progress may take before it counts as unanswered.
constexpr std::chrono::milliseconds kReadGrace{2000};
// Collectives between ranks that arrive together finish within this spin, undelayed.
constexpr std::chrono::microseconds kSpin{200};
constexpr std::chrono::microseconds kShortestPause{8};
constexpr std::chrono::microseconds kLongestPause{1000};

std::string rank_list(const std::vector<int>& ranks) {
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size(); ++i) text += (i ? ", " : "") + std::to_string(ranks[i]);
  return text;
}

std::string seconds_text(std::chrono::milliseconds duration) {
  std::ostringstream out;
  out << static_cast<double>(duration.count()) / 1000.0;
  return out.str();
}

}  // namespace

StragglerReport find_stragglers(int rank, int64_t entered, const std::vector<std::optional<RankProgress>>& first,
                                const std::vector<std::optional<RankProgress>>& second) {
  StragglerReport report;
  for (size_t r = 0; r < second.size(); ++r) {
    if (static_cast<int>(r) == rank) continue;
    const std::optional<RankProgress>& now = second[r] ? second[r] : (r < first.size() ? first[r] : std::nullopt);
    if (!now) {
      report.silent.push_back(static_cast<int>(r));
    } else if (now->entered < entered) {
      report.not_arrived.push_back(static_cast<int>(r));
    } else if (now->entered == entered && r < first.size() && first[r] && second[r] &&
               first[r]->entered == entered && first[r]->beats == second[r]->beats) {
      report.stalled.push_back(static_cast<int>(r));
    }
  }
  return report;
}

std::string describe_stragglers(const StragglerReport& report) {
  std::vector<std::string> parts;
  if (!report.not_arrived.empty()) parts.push_back(rank_list(report.not_arrived) + " did not arrive");
  if (!report.stalled.empty()) parts.push_back(rank_list(report.stalled) + " entered it but stopped progressing");
  if (!report.silent.empty()) {
    parts.push_back(rank_list(report.silent) + " did not answer (" +
                    (report.silent.size() == 1 ? "its" : "their") + " progress could not be read)");
  }
  if (parts.empty()) return "every rank entered it and is still waiting (do the ranks run different collectives?)";
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i) text += (i ? "; " : "") + parts[i];
  return text;
}

CollectiveWatchdog::CollectiveWatchdog(int rank, int world_size, std::unique_ptr<ProgressBoard> board,
                                       AbortJob abort_job, std::string board_missing_reason)
    : rank_(rank), world_size_(world_size), board_(std::move(board)), abort_job_(std::move(abort_job)),
      board_missing_reason_(std::move(board_missing_reason)) {}

void CollectiveWatchdog::set_timeout(std::chrono::milliseconds timeout) {
  timeout_ = std::max(timeout, std::chrono::milliseconds(1));
}

void CollectiveWatchdog::set_position(std::string layer, std::string phase) {
  layer_ = std::move(layer);
  phase_ = std::move(phase);
}

void CollectiveWatchdog::set_kept_folder(std::string folder) { kept_folder_ = std::move(folder); }

void CollectiveWatchdog::enter() {
  ++entered_;
  if (board_) board_->publish({entered_, beats_});
}

void CollectiveWatchdog::wait(const char* collective, const std::function<bool()>& done,
                              const std::function<void()>& before_abort) {
  const auto started = Clock::now();
  auto last_beat = started;
  std::chrono::microseconds pause{0};
  while (!done()) {
    const auto now = Clock::now();
    if (now - started >= timeout_) time_out(collective, before_abort);
    if (now - last_beat >= kHeartbeatPeriod) {
      ++beats_;
      if (board_) board_->publish({entered_, beats_});
      last_beat = now;
    }
    if (now - started < kSpin) continue;
    pause = std::clamp(pause * 2, kShortestPause, kLongestPause);
    std::this_thread::sleep_for(pause);
  }
}

void CollectiveWatchdog::time_out(const char* collective, const std::function<void()>& before_abort) {
  std::string stragglers;
  if (board_) {
    const auto first = board_->read_all(kReadGrace);
    std::this_thread::sleep_for(kHeartbeatCheck);
    const auto second = board_->read_all(kReadGrace);
    stragglers = describe_stragglers(find_stragglers(rank_, entered_, first, second));
  } else {
    stragglers = "the ranks that did not arrive are unknown (" +
                 (board_missing_reason_.empty() ? std::string("no progress board") : board_missing_reason_) + ")";
  }
  const std::string text = message(collective, stragglers);
  std::fprintf(stderr, "dcomp: error on rank %d of %d: %s\n", rank_, world_size_, text.c_str());
  std::fflush(stderr);
  if (before_abort) before_abort();
  abort_job_(kCollectiveTimeoutExitCode, text);
  std::_Exit(kCollectiveTimeoutExitCode);
}

std::string CollectiveWatchdog::message(const char* collective, const std::string& stragglers) const {
  std::string where = layer_.empty() ? "phase " + phase_ : layer_ + ", phase " + phase_;
  std::string text = "collective timeout after " + seconds_text(timeout_) + " s in " + collective + " (" + where +
                     "): " + stragglers;
  if (!kept_folder_.empty()) text += "; the temporary folder " + kept_folder_ + " is kept for --resume";
  return text;
}

}  // namespace dcomp::comm
