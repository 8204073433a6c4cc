// What the processor offers, as far as choosing BLAS kernels is concerned: the vendor,
// family and model (as /proc/cpuinfo prints them) and the instruction-set extensions that
// both the CPU and the operating system support (an extension whose register state the OS
// does not save, per XCR0, is left out, as Linux leaves it out of /proc/cpuinfo).
#pragma once

#include <set>
#include <string>

namespace dcomp::platform {

struct CpuFeatures {
  std::string vendor;  // "GenuineIntel", "AuthenticAMD", "HygonGenuine"; "" where unknown
  int family = 0;      // display family (base + extended), e.g. 6 or 25
  int model = 0;       // display model (extended model << 4 | model), e.g. 207
  // Extension names as Linux's /proc/cpuinfo spells them: "sse3", "ssse3", "sse4_2", "avx",
  // "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16",
  // "avx512_fp16", "amx_tile", ...
  std::set<std::string> flags;

  bool has(const std::string& flag) const { return flags.count(flag) != 0; }
  /// "GenuineIntel family 6 model 207", or "unknown CPU".
  std::string describe() const;
};

/// The running processor's features, from the cpuid instruction and XCR0 (x86-64); on other
/// architectures an empty set with vendor "".
CpuFeatures detect_cpu_features();

/// Features as recorded in a /proc/cpuinfo text: the first processor's "vendor_id",
/// "cpu family", "model" and "flags" lines. Used to replay recorded machines in tests.
CpuFeatures parse_cpuinfo(const std::string& text);

}  // namespace dcomp::platform
