// reference: c10/core/impl/alloc_cpu.cpp ("DefaultCPUAllocator: can't allocate memory: you
// tried to allocate %d bytes") and c10/cuda/CUDACachingAllocator.cpp ("CUDA out of memory.
// Tried to allocate %s") for the allocators' messages; getrusage(2) for the peak.
#include "kernels/platform/out_of_memory.hpp"

#include <sys/resource.h>

#include <cctype>
#include <cstdio>
#include <new>

namespace dcomp::platform {
namespace {

// The unsigned integer right after `marker` in `text`, if any.
std::optional<uint64_t> integer_after(const std::string& text, const std::string& marker) {
  const auto found = text.find(marker);
  if (found == std::string::npos) return std::nullopt;
  size_t at = found + marker.size();
  uint64_t value = 0;
  bool any = false;
  for (; at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])); ++at) {
    if (value > (UINT64_MAX - 9) / 10) return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(text[at] - '0');
    any = true;
  }
  return any ? std::optional<uint64_t>(value) : std::nullopt;
}

// "Tried to allocate 2.00 GiB" (the CUDA caching allocator's human-readable size).
std::optional<uint64_t> sized_after(const std::string& text, const std::string& marker) {
  const auto found = text.find(marker);
  if (found == std::string::npos) return std::nullopt;
  double amount = 0;
  char unit[4] = {};
  if (std::sscanf(text.c_str() + found + marker.size(), "%lf %3s", &amount, unit) != 2 || !(amount >= 0)) {
    return std::nullopt;
  }
  const std::string u(unit);
  const double scale = u == "GiB" ? 1024.0 * 1024 * 1024 : u == "MiB" ? 1024.0 * 1024 : u == "KiB" ? 1024.0 : 1.0;
  return static_cast<uint64_t>(amount * scale);
}

}  // namespace

std::optional<AllocationFailure> as_allocation_failure(const std::exception& error) {
  if (dynamic_cast<const std::bad_alloc*>(&error) != nullptr) return AllocationFailure{};
  const std::string text = error.what();
  // A bad_alloc carried on in another error's message (e.g. from a modifier's actor).
  if (text.find("std::bad_alloc") != std::string::npos) return AllocationFailure{};
  if (text.find("can't allocate memory") != std::string::npos) {
    return AllocationFailure{integer_after(text, "you tried to allocate ")};
  }
  if (text.find("CUDA out of memory") != std::string::npos) {
    return AllocationFailure{sized_after(text, "Tried to allocate ")};
  }
  return std::nullopt;
}

std::string describe_bytes(uint64_t bytes) {
  char text[64];
  std::snprintf(text, sizeof(text), "%llu bytes (%.2f GiB)", static_cast<unsigned long long>(bytes),
                static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
  return text;
}

uint64_t peak_resident_bytes() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

}  // namespace dcomp::platform
