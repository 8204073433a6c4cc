// Whether the BLAS kernels the loaded OpenBLAS chose fit the CPU, and if not, which core
// to restart with. A DYNAMIC_ARCH OpenBLAS picks its kernels from cpuid when it loads; a
// CPU newer than the library (e.g. Debian 12's 0.3.21 on Intel family 6 model 207) is not
// recognised and gets the Prescott (SSE3) kernels: GEMMs several times slower, and a
// triangular solve that crashes. The library reads OPENBLAS_CORETYPE only when it loads,
// so the fix is a restart of the process with that variable set; this file decides, and
// blas_core_restart does it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kernels/platform/cpu_features.hpp"

namespace dcomp::platform {

/// Left in the environment by a restart, for the restarted process: the core the library
/// chose on its own and the cores tried since, in order (the last is the one asked for).
struct BlasRestartMarker {
  std::string library_choice;
  std::vector<std::string> tried;

  /// "Prescott:Cooperlake,SkylakeX"; parse() returns nullopt on any other form.
  std::string format() const;
  static std::optional<BlasRestartMarker> parse(const std::string& text);
};

/// What the process knows when it starts.
struct BlasCoreFacts {
  std::string library_config;  // openblas_get_config(), "" when the BLAS is not OpenBLAS
  std::string core;            // openblas_get_corename()
  std::optional<std::string> user_coretype;  // OPENBLAS_CORETYPE as the user set it
  std::optional<BlasRestartMarker> marker;   // set when this process is a restart
  CpuFeatures cpu;
};

struct BlasCoreDecision {
  enum class Action { Keep, Restart } action = Action::Keep;
  std::string restart_core;  // with Restart: the OPENBLAS_CORETYPE to restart with
  BlasRestartMarker marker;  // with Restart: what the restarted process is told
  std::string how_chosen;    // for reports: "the library's own choice", "OPENBLAS_CORETYPE set by the user", ...
  std::string message;       // to say once (empty: nothing to say)
  bool message_is_warning = false;
};

/// The instruction-set level of the CPU's best kernels, 0 (unknown) to 7 (AVX-512 with BF16):
/// 1 SSE3, 2 SSSE3, 3 SSE4.2, 4 AVX, 5 AVX2+FMA, 6 AVX-512 (F, CD, BW, DQ, VL), 7 + BF16.
int cpu_kernel_level(const CpuFeatures& cpu);

/// The level of an OpenBLAS core name (case-insensitive), on the same scale; 0 if unknown.
int core_kernel_level(const std::string& core);

/// OpenBLAS cores for this CPU, best first, whose sgemm/dgemm kernels it can run. (OpenBLAS's
/// SapphireRapids core adds AMX sbgemm kernels only; its sgemm/dgemm are Cooperlake's.)
std::vector<std::string> candidate_cores(const CpuFeatures& cpu);

/// The decision: keep the kernels, or restart with a better core. Never restarts when the
/// user set OPENBLAS_CORETYPE, when the BLAS is not a DYNAMIC_ARCH OpenBLAS, when the core
/// is unknown, or when every better core was tried already.
BlasCoreDecision decide_blas_core(const BlasCoreFacts& facts);

}  // namespace dcomp::platform
