// reference: cuBLAS library documentation (cublasGemmEx; CUBLAS_COMPUTE_32F_FAST_TF32 and
// CUBLAS_COMPUTE_32F); llm-compressor gptq_quantize.py (accumulate_hessian: H += 2·XᵀX).
#include "kernels/cuda/hessian_accumulate.hpp"

#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/cuda/cuda_check.hpp"

namespace dcomp::gpu {

void accumulate_hessian(cublasHandle_t handle, const float* x, int64_t tokens, int64_t in_features, float* h_sum,
                        HessianPrecision precision) {
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  if (tokens < 0 || in_features <= 0 || tokens > kIntMax || in_features > kIntMax) {
    throw std::invalid_argument("accumulate_hessian: unsupported sizes tokens=" + std::to_string(tokens) +
                                " in_features=" + std::to_string(in_features));
  }
  if (tokens == 0) return;
  if (x == nullptr || h_sum == nullptr) throw std::invalid_argument("accumulate_hessian: null device pointer");
  const int n = static_cast<int>(in_features);
  const int k = static_cast<int>(tokens);
  // cuBLAS is column-major: the row-major x [tokens, in] is the column-major A = xᵀ
  // [in, tokens] with leading dimension in, so H = 2·A·Aᵀ is GEMM(N, T) of A with itself.
  const float alpha = 2.0f;
  const float beta = 1.0f;
  const cublasComputeType_t compute =
      precision == HessianPrecision::kTf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  DCOMP_CUBLAS_CHECK(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_T, n, n, k, &alpha, x, CUDA_R_32F, n, x, CUDA_R_32F,
                                  n, &beta, h_sum, CUDA_R_32F, n, compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace dcomp::gpu
