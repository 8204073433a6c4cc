// reference: OpenBLAS's exported openblas_get_corename() / openblas_get_config() and its
// OPENBLAS_CORETYPE environment variable (read once, when the library loads); execv(3).
#include "kernels/platform/blas_core_restart.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <vector>

#include "kernels/platform/blas_core_choice.hpp"

namespace dcomp::platform {
namespace {

constexpr const char* kCoreVariable = "OPENBLAS_CORETYPE";
constexpr const char* kMarkerVariable = "DCOMP_BLAS_RESTART";
constexpr const char* kTestFallbackVariable = "DCOMP_TEST_BLAS_FALLBACK";

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// The OpenBLAS functions, found among the libraries already loaded (LibTorch links the
// system's libblas.so.3, which Debian's alternatives point at OpenBLAS).
std::string call_openblas_string(const char* symbol) {
  using StringFunction = char* (*)();
  auto* function = reinterpret_cast<StringFunction>(dlsym(RTLD_DEFAULT, symbol));
  if (function == nullptr) return "";
  const char* text = function();
  return text ? std::string(text) : std::string();
}

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

// Rank 0, or a process no launcher started: the one that speaks for the job.
bool is_first_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    if (const auto value = environment(name)) return *value == "0";
  }
  return true;
}

BlasCoreFacts gather_facts() {
  BlasCoreFacts facts;
  facts.library_config = trimmed(call_openblas_string("openblas_get_config"));
  facts.core = trimmed(call_openblas_string("openblas_get_corename"));
  facts.cpu = detect_cpu_features();
  if (const auto marker = environment(kMarkerVariable)) facts.marker = BlasRestartMarker::parse(*marker);
  facts.user_coretype = environment(kCoreVariable);
  if (facts.user_coretype && !facts.marker && environment(kTestFallbackVariable)) {
    // Test-only: the caller's OPENBLAS_CORETYPE stands for the library's own (fallback) choice.
    facts.user_coretype.reset();
  }
  return facts;
}

std::mutex g_status_mutex;
std::optional<BlasCoreStatus> g_status;

void remember(const BlasCoreFacts& facts, const BlasCoreDecision& decision) {
  std::lock_guard<std::mutex> lock(g_status_mutex);
  g_status = BlasCoreStatus{facts.library_config, facts.core, decision.how_chosen, facts.cpu.describe()};
}

}  // namespace

void ensure_best_blas_core(int argc, char** argv) {
  const BlasCoreFacts facts = gather_facts();
  const BlasCoreDecision decision = decide_blas_core(facts);
  if (decision.action == BlasCoreDecision::Action::Restart && argc > 0 && argv != nullptr) {
    setenv(kCoreVariable, decision.restart_core.c_str(), 1);
    setenv(kMarkerVariable, decision.marker.format().c_str(), 1);
    std::cout.flush();
    std::cerr.flush();
    execv("/proc/self/exe", argv);
    // The restart failed: go on with the kernels the library chose, and say why.
    std::cerr << "dcomp: warning: could not restart with OPENBLAS_CORETYPE=" << decision.restart_core << " ("
              << std::strerror(errno) << "); computing with OpenBLAS's " << facts.core << " kernels\n";
    unsetenv(kCoreVariable);
    unsetenv(kMarkerVariable);
    BlasCoreDecision kept = decision;
    kept.how_chosen = "the library's own choice (restart failed)";
    remember(facts, kept);
    return;
  }
  // The marker has done its work: programs this process starts see OPENBLAS_CORETYPE as set
  // by the user, unless the library did not know the core asked for.
  if (facts.marker && (facts.marker->tried.empty() || facts.core != facts.marker->tried.back())) {
    unsetenv(kCoreVariable);
  }
  unsetenv(kMarkerVariable);
  unsetenv(kTestFallbackVariable);
  remember(facts, decision);
  if (!decision.message.empty() && is_first_rank()) {
    std::cerr << "dcomp: " << (decision.message_is_warning ? "warning: " : "") << decision.message << std::endl;
  }
}

BlasCoreStatus blas_core_status() {
  {
    std::lock_guard<std::mutex> lock(g_status_mutex);
    if (g_status) return *g_status;
  }
  const BlasCoreFacts facts = gather_facts();
  return BlasCoreStatus{facts.library_config, facts.core, decide_blas_core(facts).how_chosen, facts.cpu.describe()};
}

std::string describe_blas_core(const BlasCoreStatus& status) {
  if (status.library.empty()) return "not OpenBLAS (kernels not checked)";
  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." -> "OpenBLAS 0.3.21"
  std::string name = status.library;
  const auto second_space = name.find(' ', name.find(' ') + 1);
  if (second_space != std::string::npos) name.resize(second_space);
  return name + ", core " + status.core + " (" + status.how_chosen + ")";
}

}  // namespace dcomp::platform
