// Timing for the benchmarks: the best wall time of a few repeats.
#pragma once

#include <algorithm>
#include <chrono>

namespace dcomp::bench {

/// The shortest of `repeats` runs of fn(), in seconds.
template <class Fn>
double best_seconds(Fn&& fn, int repeats) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

}  // namespace dcomp::bench
