// The platform checks on the machine the tests run on, against independent references: the
// CPU features read with cpuid against the flags Linux lists in /proc/cpuinfo, and the BLAS
// kernels this test program computes with (after test_main's check) against the CPU's level.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <vector>
#include <fstream>
#include <sstream>

#include "kernels/platform/blas_core_choice.hpp"
#include "kernels/platform/blas_core_restart.hpp"
#include "kernels/platform/cpu_features.hpp"

namespace dcomp::platform {
namespace {

TEST(ThisMachine, CpuidAgreesWithProcCpuinfo) {
#if !(defined(__x86_64__) || defined(__i386__))
  GTEST_SKIP() << "cpuid is read on x86 only";
#endif
  std::ifstream in("/proc/cpuinfo");
  if (!in) GTEST_SKIP() << "no /proc/cpuinfo to compare with";
  std::stringstream text;
  text << in.rdbuf();
  const CpuFeatures reference = parse_cpuinfo(text.str());
  if (reference.flags.empty()) GTEST_SKIP() << "/proc/cpuinfo lists no flags";
  const CpuFeatures detected = detect_cpu_features();
  EXPECT_EQ(detected.vendor, reference.vendor);
  EXPECT_EQ(detected.family, reference.family);
  EXPECT_EQ(detected.model, reference.model);
  for (const char* flag : {"sse2", "pni", "ssse3", "sse4_1", "sse4_2", "avx", "fma", "avx2", "avx512f", "avx512dq",
                           "avx512cd", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16",
                           "amx_tile", "amx_bf16"}) {
    EXPECT_EQ(detected.has(flag), reference.has(flag)) << flag;
  }
  EXPECT_EQ(cpu_kernel_level(detected), cpu_kernel_level(reference));
}

TEST(ThisMachine, ComputesWithKernelsThatFitTheCpu) {
  const BlasCoreStatus status = blas_core_status();
  if (status.library.empty()) GTEST_SKIP() << "the BLAS loaded is not OpenBLAS";
  if (status.library.find("DYNAMIC_ARCH") == std::string::npos) GTEST_SKIP() << "OpenBLAS built for one target";
  if (status.how_chosen.find("set by the user") != std::string::npos) {
    GTEST_SKIP() << "OPENBLAS_CORETYPE is set in this environment: " << status.how_chosen;
  }
  const int cpu_level = cpu_kernel_level(detect_cpu_features());
  const bool library_has_nothing_better = status.how_chosen.find("no better core") != std::string::npos;
  EXPECT_TRUE(core_kernel_level(status.core) >= cpu_level || library_has_nothing_better)
      << "core " << status.core << " (" << status.how_chosen << ") on a CPU of level " << cpu_level;
}

// The products LibTorch hands to BLAS (sgemm, and the triangular solve that crashed in
// OpenBLAS 0.3.21's Prescott kernels), with the kernels chosen, against sums done by hand.
TEST(ThisMachine, BlasProductsAndTriangularSolvesAreRight) {
  at::manual_seed(7);
  const int64_t n = 96;
  const at::Tensor a = at::randn({n, n}, at::kFloat);            // [n, n] float32
  const at::Tensor b = at::randn({n, 8}, at::kFloat);            // [n, 8] float32
  const at::Tensor product = at::mm(a, b);                       // [n, 8], through sgemm
  const at::Tensor lower = at::tril(a) + n * at::eye(n, at::kFloat);  // well conditioned
  const at::Tensor solved = at::linalg_solve_triangular(lower, b, /*upper=*/false);  // [n, 8], through strsm
  auto A = a.accessor<float, 2>();
  auto B = b.accessor<float, 2>();
  auto L = lower.accessor<float, 2>();
  for (int64_t column = 0; column < 8; ++column) {
    std::vector<double> x(n);
    for (int64_t row = 0; row < n; ++row) {
      double dot = 0, rest = B[row][column];
      for (int64_t k = 0; k < n; ++k) dot += static_cast<double>(A[row][k]) * B[k][column];
      EXPECT_NEAR(product[row][column].item<float>(), dot, 1e-4 * (1 + std::abs(dot)));
      for (int64_t k = 0; k < row; ++k) rest -= L[row][k] * x[k];  // forward substitution
      x[row] = rest / L[row][row];
      EXPECT_NEAR(solved[row][column].item<float>(), x[row], 1e-5 * (1 + std::abs(x[row])));
    }
  }
}

// GPTQ's inverse-Hessian chain (cholesky -> cholesky_inverse -> upper cholesky; its triangular
// solves crashed in OpenBLAS 0.3.21's Prescott kernels at these sizes): U^T U must invert H.
TEST(ThisMachine, InverseHessianChainInvertsTheHessian) {
  for (const int64_t n : {200, 333}) {
    at::manual_seed(n);
    const at::Tensor x = at::randn({2 * n + 3, n}, at::kFloat);         // [tokens, n] float32
    at::Tensor h = at::mm(x.t(), x) / static_cast<double>(x.size(0));  // [n, n] float32
    h.diagonal().add_(0.01 * h.diagonal().mean().item<float>());
    const at::Tensor lower = at::linalg_cholesky(h);
    const at::Tensor upper = at::linalg_cholesky(at::cholesky_inverse(lower), /*upper=*/true);
    const at::Tensor u64 = upper.to(at::kDouble);
    const at::Tensor residual = at::mm(at::mm(u64.t(), u64), h.to(at::kDouble)) - at::eye(n, at::kDouble);
    EXPECT_LT(residual.abs().max().item<double>(), 1e-3) << "n = " << n;
  }
}

}  // namespace
}  // namespace dcomp::platform
