#include "lifecycle/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

#include <unistd.h>

namespace dcomp::logging {
namespace {

struct LoggingState {
  std::mutex mutex;
  int rank = 0;
  spdlog::level::level_enum requested = spdlog::level::info;
};

LoggingState& state() {
  static LoggingState s;
  return s;
}

void apply_locked(LoggingState& s) {
  auto logger = spdlog::get("dcomp");
  if (!logger) {
    logger = spdlog::stderr_color_mt("dcomp");
  }
  // On a terminal each line first clears what is left of a progress status line.
  const std::string clear_line = ::isatty(STDERR_FILENO) ? "\033[K" : "";
  logger->set_pattern(clear_line + "[%H:%M:%S.%e] [rank " + std::to_string(s.rank) + "] [%^%l%$] %v");
  auto level = s.rank == 0 ? s.requested : std::max(s.requested, spdlog::level::warn);
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

}  // namespace

void configure(int rank, int world_size) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.rank = rank;
  (void)world_size;
  apply_locked(s);
}

void set_level(const std::string& level) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.requested = spdlog::level::from_str(level);
  apply_locked(s);
}

}  // namespace dcomp::logging
