// The clock the pipeline's phases are timed with, for the run report's seconds per phase.
#pragma once

#include <chrono>

namespace dcomp::pipeline {

using PhaseClock = std::chrono::steady_clock;

/// Seconds from `start` to now.
inline double seconds_since(PhaseClock::time_point start) {
  return std::chrono::duration<double>(PhaseClock::now() - start).count();
}

}  // namespace dcomp::pipeline
