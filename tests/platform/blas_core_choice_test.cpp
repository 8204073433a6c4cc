// The BLAS-core decision replayed on recorded machines: the CPU's /proc/cpuinfo text and the
// core names OpenBLAS reports there (Debian 12's 0.3.21 falls back to Prescott on a Xeon of
// family 6, model 207, and picks Cooperlake on an EPYC of the Zen 4 generation).
#include <gtest/gtest.h>

#include "kernels/platform/blas_core_choice.hpp"
#include "tests/platform/recorded_cpus.hpp"

namespace dcomp::platform {
namespace {

constexpr const char* kDebianOpenBlas = "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY USE_OPENMP Prescott MAX_THREADS=64";

BlasCoreFacts facts_on(const char* cpuinfo, const std::string& core) {
  BlasCoreFacts facts;
  facts.library_config = kDebianOpenBlas;
  facts.core = core;
  facts.cpu = parse_cpuinfo(cpuinfo);
  return facts;
}

TEST(CpuInfo, ParsesTheFirstProcessorsVendorFamilyModelAndFlags) {
  const CpuFeatures xeon = parse_cpuinfo(recorded::kXeonFamily6Model207);
  EXPECT_EQ(xeon.vendor, "GenuineIntel");
  EXPECT_EQ(xeon.family, 6);
  EXPECT_EQ(xeon.model, 207);
  EXPECT_TRUE(xeon.has("amx_tile"));
  EXPECT_TRUE(xeon.has("avx512_bf16"));
  EXPECT_FALSE(xeon.has("fpu ")) << "flags are split on spaces";
  EXPECT_EQ(xeon.describe(), "GenuineIntel family 6 model 207");
  EXPECT_EQ(parse_cpuinfo("").describe(), "unknown CPU");
}

TEST(CpuKernelLevel, FollowsTheWidestExtensionsTheCpuAndOsOffer) {
  EXPECT_EQ(cpu_kernel_level(parse_cpuinfo(recorded::kXeonFamily6Model207)), 7);
  EXPECT_EQ(cpu_kernel_level(parse_cpuinfo(recorded::kEpycZen4)), 7);
  EXPECT_EQ(cpu_kernel_level(parse_cpuinfo(recorded::kXeonHaswell)), 5);
  CpuFeatures skylake = parse_cpuinfo(recorded::kXeonFamily6Model207);
  skylake.flags.erase("avx512_bf16");
  EXPECT_EQ(cpu_kernel_level(skylake), 6);
  // Linux leaves AVX-512 out of the flags when the OS does not save the ZMM state.
  CpuFeatures no_zmm = skylake;
  for (const char* flag : {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}) no_zmm.flags.erase(flag);
  EXPECT_EQ(cpu_kernel_level(no_zmm), 5);
}

TEST(CoreKernelLevel, KnowsOpenBlasCoreNamesCaseInsensitively) {
  EXPECT_EQ(core_kernel_level("Prescott"), 1);
  EXPECT_EQ(core_kernel_level("HASWELL"), 5);
  EXPECT_EQ(core_kernel_level("SkylakeX"), 6);
  EXPECT_EQ(core_kernel_level("cooperlake"), 7);
  EXPECT_EQ(core_kernel_level("ARMV8"), 0);
}

TEST(DecideBlasCore, RestartsAFallbackWithTheBestCoreForTheCpu) {
  const BlasCoreDecision decision = decide_blas_core(facts_on(recorded::kXeonFamily6Model207, "Prescott"));
  ASSERT_EQ(decision.action, BlasCoreDecision::Action::Restart);
  EXPECT_EQ(decision.restart_core, "Cooperlake");
  EXPECT_EQ(decision.marker.format(), "Prescott:Cooperlake");
}

TEST(DecideBlasCore, KeepsTheLibrarysChoiceWhenItFitsTheCpu) {
  for (const auto& [cpuinfo, core] : {std::pair{recorded::kEpycZen4, "Cooperlake"},
                                      std::pair{recorded::kXeonHaswell, "Haswell"},
                                      std::pair{recorded::kXeonFamily6Model207, "Cooperlake"}}) {
    const BlasCoreDecision decision = decide_blas_core(facts_on(cpuinfo, core));
    EXPECT_EQ(decision.action, BlasCoreDecision::Action::Keep) << core;
    EXPECT_EQ(decision.how_chosen, "the library's own choice");
    EXPECT_TRUE(decision.message.empty());
  }
}

TEST(DecideBlasCore, RespectsAnOpenBlasCoretypeTheUserSet) {
  BlasCoreFacts facts = facts_on(recorded::kXeonFamily6Model207, "Prescott");
  facts.user_coretype = "Prescott";
  const BlasCoreDecision decision = decide_blas_core(facts);
  EXPECT_EQ(decision.action, BlasCoreDecision::Action::Keep);
  EXPECT_EQ(decision.how_chosen, "OPENBLAS_CORETYPE=Prescott set by the user");
}

TEST(DecideBlasCore, TheRestartedProcessSaysWhatItDidOnce) {
  BlasCoreFacts facts = facts_on(recorded::kXeonFamily6Model207, "Cooperlake");
  facts.user_coretype = "Cooperlake";  // set by the restart, not by the user
  facts.marker = BlasRestartMarker::parse("Prescott:Cooperlake");
  const BlasCoreDecision decision = decide_blas_core(facts);
  EXPECT_EQ(decision.action, BlasCoreDecision::Action::Keep);
  EXPECT_EQ(decision.how_chosen, "chosen by dcomp; the library's own choice on this CPU was Prescott");
  EXPECT_NE(decision.message.find("OpenBLAS chose its Prescott kernels on this CPU (GenuineIntel family 6 model 207"),
            std::string::npos)
      << decision.message;
  EXPECT_NE(decision.message.find("restarted with OPENBLAS_CORETYPE=Cooperlake"), std::string::npos);
  EXPECT_FALSE(decision.message_is_warning);
}

TEST(DecideBlasCore, TriesTheNextCoreWhenTheLibraryLacksTheFirst) {
  // An OpenBLAS without Cooperlake ignores OPENBLAS_CORETYPE=Cooperlake and detects again.
  BlasCoreFacts facts = facts_on(recorded::kXeonFamily6Model207, "Prescott");
  facts.user_coretype = "Cooperlake";
  facts.marker = BlasRestartMarker::parse("Prescott:Cooperlake");
  const BlasCoreDecision next = decide_blas_core(facts);
  ASSERT_EQ(next.action, BlasCoreDecision::Action::Restart);
  EXPECT_EQ(next.restart_core, "SkylakeX");
  EXPECT_EQ(next.marker.format(), "Prescott:Cooperlake,SkylakeX");

  facts.marker = BlasRestartMarker::parse("Prescott:Cooperlake,SkylakeX,Haswell");
  const BlasCoreDecision none_left = decide_blas_core(facts);
  EXPECT_EQ(none_left.action, BlasCoreDecision::Action::Keep);
  EXPECT_TRUE(none_left.message_is_warning);
  EXPECT_NE(none_left.message.find("has none of the faster cores Cooperlake, SkylakeX, Haswell"), std::string::npos)
      << none_left.message;
}

TEST(DecideBlasCore, NeverRestartsForWhatItCannotJudge) {
  BlasCoreFacts not_openblas = facts_on(recorded::kXeonFamily6Model207, "");
  not_openblas.library_config = "";
  EXPECT_EQ(decide_blas_core(not_openblas).action, BlasCoreDecision::Action::Keep);

  BlasCoreFacts one_target = facts_on(recorded::kXeonFamily6Model207, "Prescott");
  one_target.library_config = "OpenBLAS 0.3.21 NO_LAPACKE USE_OPENMP Prescott MAX_THREADS=64";
  EXPECT_EQ(decide_blas_core(one_target).action, BlasCoreDecision::Action::Keep);

  EXPECT_EQ(decide_blas_core(facts_on(recorded::kXeonFamily6Model207, "ARMV8")).action,
            BlasCoreDecision::Action::Keep);
}

TEST(DecideBlasCore, PrefersZenOnAmdWithoutAvx512) {
  CpuFeatures zen2 = parse_cpuinfo(recorded::kEpycZen4);
  for (const char* flag : {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"}) {
    zen2.flags.erase(flag);
  }
  EXPECT_EQ(candidate_cores(zen2), (std::vector<std::string>{"Zen", "Haswell"}));
  BlasCoreFacts facts = facts_on(recorded::kEpycZen4, "Prescott");
  facts.cpu = zen2;
  EXPECT_EQ(decide_blas_core(facts).restart_core, "Zen");
}

TEST(BlasRestartMarker, RoundTripsAndRejectsOtherForms) {
  const auto marker = BlasRestartMarker::parse("Prescott:Cooperlake,SkylakeX");
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->library_choice, "Prescott");
  EXPECT_EQ(marker->tried, (std::vector<std::string>{"Cooperlake", "SkylakeX"}));
  EXPECT_EQ(marker->format(), "Prescott:Cooperlake,SkylakeX");
  for (const char* bad : {"", "Prescott", ":Cooperlake", "Prescott:", "Prescott:Cooperlake,,SkylakeX"}) {
    EXPECT_FALSE(BlasRestartMarker::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace dcomp::platform
