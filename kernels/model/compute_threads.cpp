#include "kernels/model/compute_threads.hpp"

#include <ATen/Parallel.h>

#include <cstdlib>
#include <string>
#include <thread>

namespace dcomp::model {

int default_compute_threads() {
  if (const char* value = std::getenv("OMP_NUM_THREADS"); value != nullptr && *value != '\0') {
    char* end = nullptr;
    const long parsed = std::strtol(value, &end, 10);
    if (end != value && *end == '\0' && parsed > 0 && parsed < 1 << 16) return static_cast<int>(parsed);
  }
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware > 0 ? static_cast<int>(hardware) : 1;
}

int set_default_compute_threads() {
  const int threads = default_compute_threads();
  at::set_num_threads(threads);
  return threads;
}

}  // namespace dcomp::model
