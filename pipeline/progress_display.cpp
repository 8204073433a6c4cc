#include "pipeline/progress_display.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

#include <unistd.h>

namespace dcomp::pipeline {

std::string format_duration(double seconds) {
  char text[32];
  if (seconds < 60) {
    std::snprintf(text, sizeof(text), "%.1fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(text, sizeof(text), "%dm%02ds", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
  } else {
    std::snprintf(text, sizeof(text), "%dh%02dm", static_cast<int>(seconds) / 3600,
                  (static_cast<int>(seconds) % 3600) / 60);
  }
  return text;
}

ProgressDisplay::ProgressDisplay(int rank, int total_layers, int first_layer)
    : live_(rank == 0 && ::isatty(STDERR_FILENO) && spdlog::default_logger()->should_log(spdlog::level::info)),
      total_layers_(total_layers), first_layer_(first_layer), started_(std::chrono::steady_clock::now()) {}

ProgressDisplay::~ProgressDisplay() {
  if (live_) std::fputs("\r\033[K", stderr);
}

double ProgressDisplay::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

double ProgressDisplay::eta_seconds(int layers_done) const {
  const int done_here = layers_done - first_layer_;
  if (done_here <= 0) return 0;
  return elapsed_seconds() / done_here * static_cast<double>(total_layers_ - layers_done);
}

void ProgressDisplay::phase(int layer, const std::string& phase) {
  if (!live_) return;
  const std::string eta = layer > first_layer_ ? " · ETA " + format_duration(eta_seconds(layer)) : "";
  spdlog::default_logger()->flush();
  std::fprintf(stderr, "\r\033[Klayer %d/%d · %s · elapsed %s%s\r", layer + 1, total_layers_, phase.c_str(),
               format_duration(elapsed_seconds()).c_str(), eta.c_str());
  std::fflush(stderr);
}

}  // namespace dcomp::pipeline
