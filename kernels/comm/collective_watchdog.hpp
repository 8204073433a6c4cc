// The collective watchdog: a rank waiting in a collective for longer than the
// timeout (default 10 minutes, as torch.distributed's process groups) ends the
// whole job instead of waiting forever for a rank that hangs, is stopped or lost
// its node. Before it does, it reads how far every rank got from a progress board
// (each rank publishes the number of collectives it has entered, and a heartbeat
// while it waits in one) and names the ranks that did not arrive:
//   collective timeout after 5 s in all_reduce (layer 3, phase reduce): rank 1 did
//   not arrive; the temporary folder /out.tmp-x1y2 is kept for --resume
// The wait polls the collective's completion with a short spin, then sleeps that
// grow to a millisecond, so a waiting rank uses almost no CPU.
// reference: torch.distributed init_process_group(timeout=timedelta(minutes=10)) and
// ProcessGroupNCCL's watchdog (TORCH_NCCL_ASYNC_ERROR_HANDLING: abort the communicator
// and end the process on a timed-out collective).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dcomp::comm {

/// The exit status of a job ended by the watchdog (sysexits' EX_TEMPFAIL: run it again,
/// with --resume).
constexpr int kCollectiveTimeoutExitCode = 75;

/// What one rank last published on the progress board.
struct RankProgress {
  int64_t entered = 0;  // collectives entered so far
  int64_t beats = 0;    // heartbeats published while waiting in one
};

/// Where the ranks publish their progress, readable by every rank without the
/// cooperation of the rank read (one-sided), so that a stopped rank can be read.
class ProgressBoard {
 public:
  virtual ~ProgressBoard() = default;
  /// Publishes this rank's progress.
  virtual void publish(const RankProgress& progress) = 0;
  /// Every rank's progress (this rank's included), each read waiting at most `grace`;
  /// nullopt for a rank whose read did not complete in time.
  virtual std::vector<std::optional<RankProgress>> read_all(std::chrono::milliseconds grace) = 0;
};

/// The ranks a timed-out rank blames, from two readings of the board a moment apart.
struct StragglerReport {
  std::vector<int> not_arrived;  // entered fewer collectives than the waiting rank
  std::vector<int> stalled;      // entered this one, but their heartbeat stopped
  std::vector<int> silent;       // their progress could not be read
};

/// Classifies the other ranks of `world_size` for a rank that entered its
/// `entered`-th collective; `first` and `second` are board readings taken a moment apart.
StragglerReport find_stragglers(int rank, int64_t entered, const std::vector<std::optional<RankProgress>>& first,
                                const std::vector<std::optional<RankProgress>>& second);

/// "rank 1 did not arrive", "ranks 1, 3 did not arrive; rank 2 entered it but stopped
/// responding", "every rank entered it and is still waiting".
std::string describe_stragglers(const StragglerReport& report);

class CollectiveWatchdog {
 public:
  /// Ends the job: called with the exit code and the message (already printed). The
  /// communicator's abort_job; it must not return (a test's may throw).
  using AbortJob = std::function<void(int exit_code, const std::string& message)>;

  /// `board`: may be null (the message then says the stragglers are unknown, and why:
  /// `board_missing_reason`).
  CollectiveWatchdog(int rank, int world_size, std::unique_ptr<ProgressBoard> board, AbortJob abort_job,
                     std::string board_missing_reason = {});

  static constexpr std::chrono::seconds kDefaultTimeout{600};

  void set_timeout(std::chrono::milliseconds timeout);
  std::chrono::milliseconds timeout() const { return timeout_; }
  /// Where the job is, for the message: e.g. ("layer 3", "reduce"). An empty layer is left out.
  void set_position(std::string layer, std::string phase);
  /// The temporary folder holding the run's saved progress (named in the message); empty: none.
  void set_kept_folder(std::string folder);

  /// This rank enters a collective: publishes the new count before it is started.
  void enter();
  /// Polls `done` until it returns true, sleeping a little longer each time (at most
  /// 1 ms). Past the timeout, names the stragglers, runs `before_abort` (e.g. to abort
  /// an NCCL communicator) and ends the job with kCollectiveTimeoutExitCode.
  void wait(const char* collective, const std::function<bool()>& done,
            const std::function<void()>& before_abort = {});

  int64_t collectives_entered() const { return entered_; }

 private:
  [[noreturn]] void time_out(const char* collective, const std::function<void()>& before_abort);
  std::string message(const char* collective, const std::string& stragglers) const;

  int rank_ = 0;
  int world_size_ = 1;
  std::unique_ptr<ProgressBoard> board_;
  AbortJob abort_job_;
  std::string board_missing_reason_;
  std::chrono::milliseconds timeout_ = kDefaultTimeout;
  std::string layer_, phase_ = "start", kept_folder_;
  int64_t entered_ = 0;
  int64_t beats_ = 0;
};

}  // namespace dcomp::comm
