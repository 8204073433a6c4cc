// reference: Intel 64 and IA-32 Architectures Software Developer's Manual, vol. 2A, CPUID
// (leaves 0, 1 and 7; display family/model) and XGETBV (XCR0 state components); Linux
// arch/x86/kernel/cpu/proc.c and cpufeatures.h for the flag names.
#include "kernels/platform/cpu_features.hpp"

#include <sstream>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace dcomp::platform {

std::string CpuFeatures::describe() const {
  if (vendor.empty()) return "unknown CPU";
  return vendor + " family " + std::to_string(family) + " model " + std::to_string(model);
}

#if defined(__x86_64__) || defined(__i386__)
namespace {

struct Registers {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

Registers cpuid(unsigned leaf, unsigned subleaf) {
  Registers r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

// XCR0: which register states the operating system saves on a context switch.
unsigned long long read_xcr0() {
  unsigned eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

bool bit(unsigned value, int index) { return (value >> index) & 1u; }

}  // namespace

CpuFeatures detect_cpu_features() {
  CpuFeatures cpu;
  const unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf == 0) return cpu;
  const Registers leaf0 = cpuid(0, 0);
  char vendor[13] = {};
  for (int i = 0; i < 4; ++i) {
    vendor[i] = static_cast<char>(leaf0.ebx >> (8 * i));
    vendor[4 + i] = static_cast<char>(leaf0.edx >> (8 * i));
    vendor[8 + i] = static_cast<char>(leaf0.ecx >> (8 * i));
  }
  cpu.vendor = vendor;

  const Registers leaf1 = cpuid(1, 0);
  const int base_family = (leaf1.eax >> 8) & 0xf;
  const int base_model = (leaf1.eax >> 4) & 0xf;
  cpu.family = base_family == 0xf ? base_family + static_cast<int>((leaf1.eax >> 20) & 0xff) : base_family;
  cpu.model = (base_family == 0x6 || base_family == 0xf) ? (static_cast<int>((leaf1.eax >> 16) & 0xf) << 4) | base_model
                                                         : base_model;

  const bool osxsave = bit(leaf1.ecx, 27);
  const unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
  const bool os_saves_avx = (xcr0 & 0x6) == 0x6;        // SSE and AVX (YMM) state
  const bool os_saves_avx512 = (xcr0 & 0xe6) == 0xe6;   // plus opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_saves_amx = (xcr0 & 0x60000) == 0x60000;  // XTILECFG, XTILEDATA

  auto add = [&](bool present, const char* name) {
    if (present) cpu.flags.insert(name);
  };
  add(bit(leaf1.edx, 26), "sse2");
  add(bit(leaf1.ecx, 0), "pni");  // SSE3, as Linux names it
  add(bit(leaf1.ecx, 0), "sse3");
  add(bit(leaf1.ecx, 9), "ssse3");
  add(bit(leaf1.ecx, 19), "sse4_1");
  add(bit(leaf1.ecx, 20), "sse4_2");
  add(bit(leaf1.ecx, 28) && os_saves_avx, "avx");
  add(bit(leaf1.ecx, 12) && os_saves_avx, "fma");
  if (max_leaf >= 7) {
    const Registers leaf7 = cpuid(7, 0);
    add(bit(leaf7.ebx, 5) && os_saves_avx, "avx2");
    add(bit(leaf7.ebx, 16) && os_saves_avx512, "avx512f");
    add(bit(leaf7.ebx, 17) && os_saves_avx512, "avx512dq");
    add(bit(leaf7.ebx, 28) && os_saves_avx512, "avx512cd");
    add(bit(leaf7.ebx, 30) && os_saves_avx512, "avx512bw");
    add(bit(leaf7.ebx, 31) && os_saves_avx512, "avx512vl");
    add(bit(leaf7.ecx, 11) && os_saves_avx512, "avx512_vnni");
    add(bit(leaf7.edx, 23) && os_saves_avx512, "avx512_fp16");
    add(bit(leaf7.edx, 24) && os_saves_amx, "amx_tile");
    add(bit(leaf7.edx, 22) && os_saves_amx, "amx_bf16");
    if (leaf7.eax >= 1) add(bit(cpuid(7, 1).eax, 5) && os_saves_avx512, "avx512_bf16");
  }
  return cpu;
}
#else
CpuFeatures detect_cpu_features() { return {}; }
#endif

CpuFeatures parse_cpuinfo(const std::string& text) {
  CpuFeatures cpu;
  std::istringstream lines(text);
  std::string line;
  bool seen_flags = false;
  while (std::getline(lines, line) && !seen_flags) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "vendor_id") cpu.vendor = value;
    if (key == "cpu family") cpu.family = std::stoi(value);
    if (key == "model") cpu.model = std::stoi(value);
    if (key == "flags") {
      std::istringstream words(value);
      for (std::string flag; words >> flag;) cpu.flags.insert(flag);
      seen_flags = true;  // the first processor's block is enough
    }
  }
  return cpu;
}

}  // namespace dcomp::platform
