// GPTQ / SparseGPT Hessian accumulation on the GPU: H_sum += 2·XᵀX for one batch of
// calibration tokens, as one cuBLAS GEMM on tensor cores (TF32 inputs, FP32
// accumulation) or in plain FP32 for comparison.
//
// Precision. TF32 keeps fp32's 8-bit exponent and 10 explicit mantissa bits, so
// turning an fp32 input into TF32 changes it by at most 2^-11 relative when rounded
// to nearest and 2^-10 when the low 13 bits are dropped (cuBLAS does not say which;
// the bounds below take the larger). The product of two TF32 values is exact in
// fp32, so every term p_k = 2·x[k,i]·x[k,j] carries at most 2·2^-10 = 2^-9 relative
// error (first order), and the K = tokens fp32 additions add at most about
// K·2^-24·Σ_k|p_k| (any order). With independent rounding errors the input part
// behaves like a random walk: its standard deviation is about 2^-11·sqrt(Σ_k p_k²),
// i.e. ~ sqrt(K)·2^-11 relative to the largest term, which is what one sees against
// an fp64 sum. Exact mode (CUBLAS_COMPUTE_32F) has only the accumulation part.
// Both modes compute the full product (2·tokens·in² FLOPs), so H[i,j] and H[j,i] can
// differ by a rounding; the Cholesky factorization downstream reads one triangle.
//
// reference: cuBLAS library documentation (cublasGemmEx, cublasComputeType_t:
// CUBLAS_COMPUTE_32F_FAST_TF32 and CUBLAS_COMPUTE_32F); llm-compressor
// src/llmcompressor/modifiers/gptq/gptq_quantize.py (accumulate_hessian); NVIDIA,
// "TensorFloat-32 in the A100 GPU" (the TF32 format).
#pragma once

#include <cstdint>

#include <cublas_v2.h>

namespace dcomp::gpu {

enum class HessianPrecision {
  kTf32,  // tensor cores: inputs rounded to TF32, products and sums in FP32
  kFp32,  // FP32 inputs, products and sums (the default-math SGEMM path)
};

/// h_sum [in, in] fp32 (device, row- or column-major: symmetric) += 2·xᵀx, where
/// x [tokens, in] fp32 is row-major on the device. Runs on the handle's stream.
/// tokens == 0 is a no-op. Throws std::invalid_argument for sizes cuBLAS cannot take
/// (negative, or above 2^31 − 1) and std::runtime_error for a cuBLAS failure.
void accumulate_hessian(cublasHandle_t handle, const float* x, int64_t tokens, int64_t in_features, float* h_sum,
                        HessianPrecision precision);

/// CPU reference, plain loops in fp64: for x [tokens, in] fp32 row-major, adds to the
/// [in, in] fp64 row-major arrays sum += 2·xᵀx (products and sums in fp64, exact
/// products), and, where not null, abs_sum += Σ_k |2·x[k,i]·x[k,j]| and
/// square_sum += Σ_k (2·x[k,i]·x[k,j])², the scales of the error bounds above.
void accumulate_hessian_reference(const float* x, int64_t tokens, int64_t in_features, double* sum,
                                  double* abs_sum = nullptr, double* square_sum = nullptr);

}  // namespace dcomp::gpu
