// Progress of a one-shot run, shown by rank 0. On a terminal: one status line,
// redrawn in place at every phase of every layer,
//   "layer 3/32 · compress · elapsed 1m02s · ETA 12m30s"
// (log lines clear it and it comes back with the next phase). Elsewhere (Slurm
// logs, pipes, files): no status line; the log's plain per-layer lines carry the
// same times and ETA. Nothing at all with --quiet (log level above info).
#pragma once

#include <chrono>
#include <string>

namespace dcomp::pipeline {

class ProgressDisplay {
 public:
  /// `first_layer`: where this process starts (after resuming), for the ETA.
  ProgressDisplay(int rank, int total_layers, int first_layer);
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  /// Layer `layer` (0-based) enters `phase` ("load", "calibrate", ...).
  void phase(int layer, const std::string& phase);
  /// Seconds since the run started, and the estimated seconds left once `layers_done` are complete.
  double elapsed_seconds() const;
  double eta_seconds(int layers_done) const;

 private:
  bool live_ = false;
  int total_layers_ = 0;
  int first_layer_ = 0;
  std::chrono::steady_clock::time_point started_;
};

/// "1h02m", "12m30s", "4.2s".
std::string format_duration(double seconds);

}  // namespace dcomp::pipeline
