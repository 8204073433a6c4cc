// reference: OpenBLAS driver/others/dynamic.c (DYNAMIC_ARCH core selection, the
// OPENBLAS_CORETYPE override and its core names) and kernel/x86_64/KERNEL.<CORE> (which
// cores share which GEMM kernels).
#include "kernels/platform/blas_core_choice.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

namespace dcomp::platform {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool same_core(const std::string& a, const std::string& b) { return lowercase(a) == lowercase(b); }

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string joined;
  for (const auto& item : items) joined += (joined.empty() ? "" : separator) + item;
  return joined;
}

const char* level_name(int level) {
  static const char* const names[] = {"unknown", "SSE3",    "SSSE3",   "SSE4.2",
                                      "AVX",     "AVX2",    "AVX-512", "AVX-512 BF16"};
  return names[std::clamp(level, 0, 7)];
}

}  // namespace

std::string BlasRestartMarker::format() const { return library_choice + ":" + join(tried, ","); }

std::optional<BlasRestartMarker> BlasRestartMarker::parse(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size()) return std::nullopt;
  BlasRestartMarker marker;
  marker.library_choice = text.substr(0, colon);
  std::istringstream cores(text.substr(colon + 1));
  for (std::string core; std::getline(cores, core, ',');) {
    if (core.empty()) return std::nullopt;
    marker.tried.push_back(core);
  }
  return marker;
}

int cpu_kernel_level(const CpuFeatures& cpu) {
  const bool avx512 = cpu.has("avx512f") && cpu.has("avx512cd") && cpu.has("avx512bw") && cpu.has("avx512dq") &&
                      cpu.has("avx512vl");
  if (avx512 && cpu.has("avx512_bf16")) return 7;
  if (avx512) return 6;
  if (cpu.has("avx2") && cpu.has("fma")) return 5;
  if (cpu.has("avx")) return 4;
  if (cpu.has("sse4_2")) return 3;
  if (cpu.has("ssse3")) return 2;
  if (cpu.has("pni") || cpu.has("sse3")) return 1;
  return 0;
}

int core_kernel_level(const std::string& core) {
  static const std::map<std::string, int> levels = {
      {"katmai", 1},      {"coppermine", 1}, {"northwood", 1},  {"prescott", 1},  {"banias", 1},
      {"atom", 1},        {"athlon", 1},     {"opteron", 1},    {"opteron_sse3", 1}, {"nano", 1},
      {"bobcat", 1},      {"core2", 2},      {"penryn", 2},     {"dunnington", 2}, {"nehalem", 3},
      {"barcelona", 3},   {"sandybridge", 4}, {"bulldozer", 4}, {"piledriver", 4}, {"steamroller", 4},
      {"haswell", 5},     {"excavator", 5},  {"zen", 5},        {"dhyana", 5},    {"skylakex", 6},
      {"cooperlake", 7},  {"sapphirerapids", 7}};
  const auto found = levels.find(lowercase(core));
  return found == levels.end() ? 0 : found->second;
}

std::vector<std::string> candidate_cores(const CpuFeatures& cpu) {
  const bool amd = cpu.vendor == "AuthenticAMD" || cpu.vendor == "HygonGenuine";
  switch (cpu_kernel_level(cpu)) {
    case 7: return {"Cooperlake", "SkylakeX", "Haswell"};
    case 6: return {"SkylakeX", "Haswell"};
    case 5: return amd ? std::vector<std::string>{"Zen", "Haswell"} : std::vector<std::string>{"Haswell"};
    case 4: return {"Sandybridge"};
    case 3: return {"Nehalem"};
    case 2: return {"Core2"};
    default: return {};
  }
}

BlasCoreDecision decide_blas_core(const BlasCoreFacts& facts) {
  BlasCoreDecision decision;
  if (facts.library_config.empty()) {
    decision.how_chosen = "not OpenBLAS: its kernels are not checked";
    return decision;
  }
  if (facts.user_coretype && !facts.marker) {
    decision.how_chosen = "OPENBLAS_CORETYPE=" + *facts.user_coretype + " set by the user";
    return decision;
  }
  if (facts.library_config.find("DYNAMIC_ARCH") == std::string::npos) {
    decision.how_chosen = "built for one target (no DYNAMIC_ARCH)";
    return decision;
  }
  const std::string original = facts.marker ? facts.marker->library_choice : facts.core;
  const int cpu_level = cpu_kernel_level(facts.cpu);
  const int original_level = core_kernel_level(original);
  if (facts.marker && !facts.marker->tried.empty() && same_core(facts.core, facts.marker->tried.back())) {
    decision.how_chosen = "chosen by dcomp; the library's own choice on this CPU was " + original;
    decision.message = "OpenBLAS chose its " + original + " kernels on this CPU (" + facts.cpu.describe() + ", " +
                       level_name(cpu_level) + "); dcomp restarted with OPENBLAS_CORETYPE=" + facts.core +
                       " (set OPENBLAS_CORETYPE yourself to choose another core)";
    return decision;
  }
  if (original_level == 0 || original_level >= cpu_level) {
    decision.how_chosen = "the library's own choice";
    return decision;
  }
  std::vector<std::string> untried;
  for (const auto& core : candidate_cores(facts.cpu)) {
    if (core_kernel_level(core) <= original_level) continue;
    const bool tried = facts.marker && std::any_of(facts.marker->tried.begin(), facts.marker->tried.end(),
                                                   [&](const std::string& t) { return same_core(t, core); });
    if (!tried) untried.push_back(core);
  }
  if (untried.empty()) {
    decision.how_chosen = "the library's own choice (it has no better core for this CPU)";
    decision.message_is_warning = true;
    decision.message = "OpenBLAS computes with its " + facts.core + " kernels on this CPU (" + facts.cpu.describe() +
                       ", " + level_name(cpu_level) + ") and has none of the faster cores " +
                       join(candidate_cores(facts.cpu), ", ") +
                       ": matrix products may run several times slower than this CPU allows";
    return decision;
  }
  decision.action = BlasCoreDecision::Action::Restart;
  decision.restart_core = untried.front();
  decision.marker.library_choice = original;
  if (facts.marker) decision.marker.tried = facts.marker->tried;
  decision.marker.tried.push_back(decision.restart_core);
  decision.how_chosen = "restarting with " + decision.restart_core;
  return decision;
}

}  // namespace dcomp::platform
