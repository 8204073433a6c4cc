// The whole GPTQ column loop of one weight on the GPU: blocks of up to 128 columns, each
// solved by the fused block step (one kernel launch), then the columns after the block
// updated with one FP32 cuBLAS GEMM: W[:, end:] −= Err · U[block, end:].
//
// The caller prepares what the CPU gptq_quantize prepares before its loop: the weight in
// solve order (permuted for actorder) with dead input columns zeroed, the scales and zero
// points fixed from the original weight, and the upper factor U of the damped H⁻¹
// (e.g. dcomp::quant::inverse_hessian_factor on the CPU, uploaded row-major).
//
// reference: Frantar et al., "GPTQ" (arXiv 2210.17323), Algorithm 1 and §3 "Lazy
// Batch-Updates"; llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py
// (quantize_weight, the block loop); cuBLAS library documentation (cublasGemmEx,
// CUBLAS_COMPUTE_32F).
#pragma once

#include <cstdint>

#include <cublas_v2.h>

#include "kernels/cuda/gptq_block_step.hpp"

namespace dcomp::gpu {

/// One weight and its inverse-Hessian factor, on the device.
struct GptqWeight {
  float* weight = nullptr;            // fp32 [rows, columns] row-major, solve order; on return (q − zero)·scale
  int64_t rows = 0;
  int64_t columns = 0;
  const float* hinv_upper = nullptr;  // fp32 [columns, columns] row-major U, UᵀU = H⁻¹ (below the diagonal not read)
  int64_t block_size = kGptqMaxBlockColumns;  // 1 … 128
};

/// Quantizes `w` in place and writes targets.codes (device [rows, columns] int8).
/// err_workspace: device fp32 [rows, block_size], or null to allocate one for the call.
/// Everything runs on the handle's stream (asynchronous with respect to the host, except
/// for the allocation). The GEMMs use CUBLAS_COMPUTE_32F, so the handle must be in the
/// default or pedantic math mode (CublasHandle is); a TF32 math mode is refused
/// (std::invalid_argument), since it would move the codes. Costs 2·rows·Σ count·(columns − end)
/// ≈ rows·columns² FLOPs in the GEMMs plus the block steps.
void gptq_column_loop(const GptqWeight& w, const GptqQuantTargets& targets, cublasHandle_t handle,
                      float* err_workspace = nullptr);

}  // namespace dcomp::gpu
