// reference: arXiv 2210.17323 Algorithm 1 and §3 (lazy batch updates); llm-compressor
// gptq_quantize.py (quantize_weight: W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:]));
// cuBLAS library documentation (cublasGemmEx, cublasGetMathMode, cublasGetStream).
#include "kernels/cuda/gptq_column_loop.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device_buffer.hpp"

namespace dcomp::gpu {

namespace {

void check_weight(const GptqWeight& w, cublasHandle_t handle) {
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  if (w.rows < 0 || w.columns <= 0 || w.rows > kIntMax || w.columns > kIntMax) {
    throw std::invalid_argument("gptq_column_loop: unsupported shape [" + std::to_string(w.rows) + ", " +
                                std::to_string(w.columns) + "]");
  }
  if (w.block_size < 1 || w.block_size > kGptqMaxBlockColumns) {
    throw std::invalid_argument("gptq_column_loop: block_size must be in 1 … 128, got " +
                                std::to_string(w.block_size));
  }
  if (w.rows > 0 && (!w.weight || !w.hinv_upper)) throw std::invalid_argument("gptq_column_loop: null pointer");
  cublasMath_t mode = CUBLAS_DEFAULT_MATH;
  DCOMP_CUBLAS_CHECK(cublasGetMathMode(handle, &mode));
  const int base = static_cast<int>(mode) & ~static_cast<int>(CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION);
  if (base != CUBLAS_DEFAULT_MATH && base != CUBLAS_PEDANTIC_MATH) {
    throw std::invalid_argument("gptq_column_loop: the cuBLAS handle must be in the default or pedantic math mode");
  }
}

}  // namespace

void gptq_column_loop(const GptqWeight& w, const GptqQuantTargets& targets, cublasHandle_t handle,
                      float* err_workspace) {
  check_weight(w, handle);
  if (w.rows == 0) return;
  cudaStream_t stream = nullptr;
  DCOMP_CUBLAS_CHECK(cublasGetStream(handle, &stream));
  const int64_t err_ld = std::min(w.block_size, w.columns);
  DeviceBuffer<float> owned;
  if (!err_workspace) {
    owned = DeviceBuffer<float>(static_cast<size_t>(w.rows * err_ld));
    err_workspace = owned.get();
  }
  GptqBlock block;
  block.weight = w.weight;
  block.rows = w.rows;
  block.columns = w.columns;
  block.hinv_ld = w.columns;
  block.err = err_workspace;
  block.err_ld = err_ld;
  const float minus_one = -1.0f;
  const float one = 1.0f;
  for (int64_t first = 0; first < w.columns; first += w.block_size) {
    const int64_t end = std::min(first + w.block_size, w.columns);
    block.first = first;
    block.count = end - first;
    block.hinv = w.hinv_upper + first * w.columns + first;  // U[first, first]
    gptq_block_step(block, targets, stream);
    if (end == w.columns) break;
    // Row-major W[:, end:] [rows, m] −= Err [rows, count] · U[first:end, end:] [count, m].
    // Column-major (cuBLAS) sees each row-major matrix transposed, so this is
    // Wᵀ[m, rows] −= Uᵀ[m, count] · Errᵀ[count, rows], all operands untransposed.
    const int m = static_cast<int>(w.columns - end);
    const int n = static_cast<int>(w.rows);
    const int k = static_cast<int>(block.count);
    DCOMP_CUBLAS_CHECK(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &minus_one,
                                    w.hinv_upper + first * w.columns + end, CUDA_R_32F, static_cast<int>(w.columns),
                                    err_workspace, CUDA_R_32F, static_cast<int>(err_ld), &one, w.weight + end,
                                    CUDA_R_32F, static_cast<int>(w.columns), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }
  if (owned.get()) DCOMP_CUDA_CHECK(cudaStreamSynchronize(stream));  // before the workspace is freed
}

}  // namespace dcomp::gpu
