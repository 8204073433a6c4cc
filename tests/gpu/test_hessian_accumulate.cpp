// accumulate_hessian on the GPU (TF32 tensor cores and exact FP32) against the fp64
// loops of accumulate_hessian_reference, entry by entry, within the error bound derived
// in kernels/cuda/hessian_accumulate.hpp; plus the error reporting of the CUDA helpers.
//
// Tolerance, per entry (i, j), with p_k = 2·x[k,i]·x[k,j], S = Σ_k |p_k|, K = tokens:
//   |H_gpu − H_fp64| ≤ (u_in + (2K + 5)·2^-24) · S
// where u_in = 2^-9 for TF32 (two inputs each off by at most 2^-10 relative, whether
// cuBLAS rounds or truncates to TF32) and 0 for FP32; (2K + 5)·2^-24 covers the K fp32
// additions in any order (doubled, for adders that truncate), the two beta = 1 additions
// of the two batches and the rounding of each product. This is a worst-case bound, valid
// whether TF32 conversion rounds or truncates. The typical TF32 error is far smaller:
// with inputs rounded to nearest, the errors p_k·(δ_a + δ_b) are independent and zero-mean,
// so the error of an entry has a standard deviation of about 0.8·2^-11·sqrt(Σ_k p_k²)
// (~ sqrt(K)·2^-11 relative to the largest term). The TF32 run must also stay within
// 8·2^-11·sqrt(Σ_k p_k²) + the accumulation term above (about 10 standard deviations; an
// H200 with CUDA 13.0 measured at most 3.2); inputs truncated to TF32 would put a bias
// of about 2^-10·Σ_k p_k on each diagonal entry, ~sqrt(K/3)/4 times this limit for
// Gaussian inputs (6 to 9 times in the 2048- and 4096-token cases), and fail it.
//
// reference: cuBLAS library documentation (cublasGemmEx compute types); Higham, "Accuracy
// and Stability of Numerical Algorithms", §3.1 (the γ_n bound for summation).
#include <algorithm>
#include <cmath>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device_buffer.hpp"
#include "kernels/cuda/hessian_accumulate.hpp"
#include "tests/gpu/gpu_test_support.hpp"

namespace dcomp::gpu {
namespace {

using testing::GpuTest;

struct HessianCase {
  int64_t tokens;
  int64_t in_features;
};

std::ostream& operator<<(std::ostream& os, const HessianCase& c) {
  return os << "tokens" << c.tokens << "_in" << c.in_features;
}

class HessianAccumulation : public GpuTest, public ::testing::WithParamInterface<HessianCase> {};

TEST_P(HessianAccumulation, Tf32AndFp32WithinDerivedBounds) {
  const HessianCase c = GetParam();
  const int64_t n = c.in_features;
  // Uneven channels (0.05 … 8) and a positive offset on every third channel, so that the
  // sums mix cancelling and non-cancelling terms over a wide range of magnitudes.
  std::vector<float> x = testing::random_matrix(c.tokens, n, 1000 + static_cast<uint64_t>(n),
                                                testing::linear_scales(n, 0.05f, 8.0f));
  for (int64_t k = 0; k < c.tokens; ++k) {
    for (int64_t i = 0; i < n; i += 3) x[static_cast<size_t>(k * n + i)] += 0.5f;
  }
  std::vector<double> sum(static_cast<size_t>(n * n), 0.0);
  std::vector<double> abs_sum(sum.size(), 0.0);
  std::vector<double> square_sum(sum.size(), 0.0);
  accumulate_hessian_reference(x.data(), c.tokens, n, sum.data(), abs_sum.data(), square_sum.data());

  CublasHandle handle;
  DeviceBuffer<float> device_x(x);
  const int64_t half = c.tokens / 2;
  for (const HessianPrecision precision : {HessianPrecision::kTf32, HessianPrecision::kFp32}) {
    const bool tf32 = precision == HessianPrecision::kTf32;
    DeviceBuffer<float> device_h(static_cast<size_t>(n * n));
    device_h.zero();
    // Two batches: the second adds onto the first (beta = 1), as calibration does.
    accumulate_hessian(handle.get(), device_x.get(), half, n, device_h.get(), precision);
    accumulate_hessian(handle.get(), device_x.get() + half * n, c.tokens - half, n, device_h.get(), precision);
    const std::vector<float> h = device_h.download();

    const double u_in = tf32 ? std::ldexp(1.0, -9) : 0.0;
    const double u_sum = static_cast<double>(2 * c.tokens + 5) * std::ldexp(1.0, -24);
    int64_t violations = 0;
    int64_t typical_violations = 0;  // TF32: beyond 8·2^-11·sqrt(Σp²) + the accumulation term
    double worst_ratio = 0.0;    // max |err| / bound
    double worst_typical = 0.0;  // max |err| / (2^-11·sqrt(Σ p²))
    double err_norm = 0.0;
    double h_norm = 0.0;
    for (size_t e = 0; e < h.size(); ++e) {
      const double err = std::fabs(static_cast<double>(h[e]) - sum[e]);
      const double bound = (u_in + u_sum) * abs_sum[e];
      if (!(err <= bound)) ++violations;
      if (tf32 && !(err <= 8.0 * std::ldexp(1.0, -11) * std::sqrt(square_sum[e]) + u_sum * abs_sum[e])) {
        ++typical_violations;
      }
      if (bound > 0) worst_ratio = std::max(worst_ratio, err / bound);
      if (square_sum[e] > 0) worst_typical = std::max(worst_typical, err / (std::ldexp(1.0, -11) * std::sqrt(square_sum[e])));
      err_norm += err * err;
      h_norm += sum[e] * sum[e];
    }
    std::cout << "[   INFO   ] " << (tf32 ? "TF32" : "FP32") << " tokens=" << c.tokens << " in=" << n
              << ": max |err|/bound = " << worst_ratio << ", max |err|/(2^-11·sqrt(Σp²)) = " << worst_typical
              << ", ‖err‖/‖H‖ = " << std::sqrt(err_norm / h_norm) << "\n";
    EXPECT_EQ(violations, 0) << (tf32 ? "TF32" : "FP32") << ": entries outside the derived bound";
    EXPECT_EQ(typical_violations, 0) << "TF32: entries beyond 8·2^-11·sqrt(Σp²)";
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, HessianAccumulation,
                         ::testing::Values(HessianCase{4096, 172}, HessianCase{2048, 384}, HessianCase{64, 4096}),
                         [](const ::testing::TestParamInfo<HessianCase>& info) {
                           return "tokens" + std::to_string(info.param.tokens) + "_in" +
                                  std::to_string(info.param.in_features);
                         });

class HessianArguments : public GpuTest {};

TEST_F(HessianArguments, ZeroTokensIsANoOpAndBadSizesThrow) {
  CublasHandle handle;
  DeviceBuffer<float> h(std::vector<float>(16, 3.0f));
  accumulate_hessian(handle.get(), nullptr, 0, 4, h.get(), HessianPrecision::kTf32);
  for (const float v : h.download()) EXPECT_EQ(v, 3.0f);
  EXPECT_THROW(accumulate_hessian(handle.get(), nullptr, -1, 4, h.get(), HessianPrecision::kFp32),
               std::invalid_argument);
  EXPECT_THROW(accumulate_hessian(handle.get(), nullptr, 8, int64_t{1} << 32, h.get(), HessianPrecision::kFp32),
               std::invalid_argument);
}

class CudaErrors : public GpuTest {};

TEST_F(CudaErrors, FailedCallsThrowWithTheErrorAndTheCallSite) {
  try {
    DeviceBuffer<float> too_big(size_t{1} << 50);  // 4 PiB
    FAIL() << "the allocation should have failed";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cudaMalloc"), std::string::npos) << what;
    EXPECT_NE(what.find("cudaErrorMemoryAllocation"), std::string::npos) << what;
    EXPECT_NE(what.find("device_buffer.hpp:"), std::string::npos) << what;
  }
  cudaGetLastError();
  try {
    DCOMP_CUBLAS_CHECK(CUBLAS_STATUS_INVALID_VALUE);
    FAIL() << "should have thrown";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("CUBLAS_STATUS_INVALID_VALUE"), std::string::npos) << what;
    EXPECT_NE(what.find("test_hessian_accumulate.cpp:"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace dcomp::gpu
