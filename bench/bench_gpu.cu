// GPU throughput, measured side by side in one run (CUDA events, mean over repeats after
// warm-up), on synthetic data:
//  1. Hessian accumulation H += 2·XᵀX (accumulate_hessian, TF32 tensor cores and exact
//     FP32) against plain cuBLAS GEMMs of the same shape with distinct operands: SGEMM
//     (default math, FP32) and cublasGemmEx with CUBLAS_COMPUTE_32F_FAST_TF32.
//     FLOPs counted: 2·tokens·in² (the full product).
//  2. The GPTQ column loop (gptq_column_loop: one fused block-step launch per 128
//     columns + one GEMM) in µs per column, against a plain transcription of the loop
//     with one launch per column operation (quantize the column; push its error onto the
//     block's later columns) and the same GEMM per block. Both do the same fp32
//     arithmetic, so their codes must agree; the mismatch count is printed.
// Prints "SKIP: <CUDA error>" and exits 0 where no GPU is usable.
// Usage: bench_gpu
//
// reference: cuBLAS library documentation (cublasGemmEx, cublasSgemm, compute types);
// arXiv 2210.17323 Algorithm 1 (the column loop); CUDA Runtime API (event timing).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device_buffer.hpp"
#include "kernels/cuda/gptq_column_loop.hpp"
#include "kernels/cuda/hessian_accumulate.hpp"

namespace {

using dcomp::gpu::CublasHandle;
using dcomp::gpu::DeviceBuffer;

// Uniform values in [lo, hi) from a hash of (seed, index): fp32 [n].
__global__ void fill_uniform(float* out, int64_t n, uint32_t seed, float lo, float hi) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  uint32_t h = static_cast<uint32_t>(i) * 2654435761u ^ (seed + static_cast<uint32_t>(i >> 32) * 40503u);
  h ^= h >> 16;
  h *= 2246822519u;
  h ^= h >> 13;
  h *= 3266489917u;
  h ^= h >> 16;
  out[i] = lo + (hi - lo) * static_cast<float>(h >> 8) * (1.0f / 16777216.0f);
}

// A synthetic upper factor [n, n] row-major: diagonal in [0.2, 1), off-diagonal a small
// fraction of it, zeros below (timing does not depend on the values).
__global__ void make_upper(float* u, int64_t n) {
  const int64_t at = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (at >= n * n) return;
  const int64_t i = at / n;
  const int64_t j = at % n;
  const float noise = static_cast<float>((at * 2654435761ll) % 1000) / 1000.0f;
  u[at] = j < i ? 0.0f : (j == i ? 0.2f + 0.8f * noise : 0.02f * (noise - 0.5f));
}

// Symmetric INT4 scales per (row, group of 128): absmax / 7.5, fp32 [rows, groups].
__global__ void group_scales(const float* w, int64_t rows, int64_t columns, int64_t group, float* scale) {
  const int64_t groups = (columns + group - 1) / group;
  const int64_t at = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (at >= rows * groups) return;
  const int64_t r = at / groups;
  const int64_t g = at % groups;
  float absmax = 0.0f;
  for (int64_t c = g * group; c < min(columns, (g + 1) * group); ++c) absmax = fmaxf(absmax, fabsf(w[r * columns + c]));
  scale[at] = absmax > 0.0f ? absmax / 7.5f : 1.1920929e-7f;
}

// Baseline, launch 1 of a column: quantize column `column` of every row, write its code,
// dequantized value and scaled error (the same fp32 operations as the fused step).
__global__ void quantize_column(float* w, int64_t rows, int64_t columns, int64_t column, const float* diagonal,
                                const float* scale, const float* zero, int64_t stride, int32_t group, float q_min,
                                float q_max, int8_t* codes, float* err, int64_t err_ld, int64_t err_column) {
  const int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (r >= rows) return;
  const float value = w[r * columns + column];
  const float s = scale[r * stride + group];
  const float z = zero[r * stride + group];
  float x = __fadd_rn(__fdiv_rn(value, s), z);
  x = x < q_min ? q_min : (q_max < x ? q_max : x);
  const float q = rintf(x);
  const float dequant = __fmul_rn(__fsub_rn(q, z), s);
  w[r * columns + column] = dequant;
  codes[r * columns + column] = static_cast<int8_t>(static_cast<int>(q));
  err[r * err_ld + err_column] = __fdiv_rn(__fsub_rn(value, dequant), *diagonal);
}

// Baseline, launch 2 of a column: w[r, j] −= err[r]·U[column, j] for column < j < end.
__global__ void update_block(float* w, int64_t rows, int64_t columns, int64_t column, int64_t end, const float* u_row,
                             const float* err, int64_t err_ld, int64_t err_column) {
  const int64_t width = end - column - 1;
  const int64_t at = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (at >= rows * width) return;
  const int64_t r = at / width;
  const int64_t j = column + 1 + at % width;
  w[r * columns + j] = __fsub_rn(w[r * columns + j], __fmul_rn(err[r * err_ld + err_column], u_row[j]));
}

unsigned blocks_for(int64_t n, int threads) { return static_cast<unsigned>((n + threads - 1) / threads); }

// Mean milliseconds of `fn` over `repeats` runs after `warmup` runs; `before` runs
// ahead of each (untimed, same stream).
template <class Before, class Fn>
double mean_ms(int warmup, int repeats, Before&& before, Fn&& fn) {
  cudaEvent_t start, stop;
  DCOMP_CUDA_CHECK(cudaEventCreate(&start));
  DCOMP_CUDA_CHECK(cudaEventCreate(&stop));
  for (int i = 0; i < warmup; ++i) {
    before();
    fn();
  }
  float total = 0.0f;
  for (int i = 0; i < repeats; ++i) {
    before();
    DCOMP_CUDA_CHECK(cudaEventRecord(start));
    fn();
    DCOMP_CUDA_CHECK(cudaEventRecord(stop));
    DCOMP_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0.0f;
    DCOMP_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    total += ms;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return total / static_cast<float>(repeats);
}

void bench_hessian(const CublasHandle& handle) {
  std::printf("Hessian accumulation H[in,in] += 2·XᵀX, X [tokens, in] fp32; TFLOP/s (2·tokens·in²), mean of 10\n");
  std::printf("%8s %8s %14s %14s %14s %14s\n", "tokens", "in", "hessian TF32", "hessian FP32", "SGEMM FP32",
              "GEMM TF32");
  const std::pair<int64_t, int64_t> shapes[] = {{8192, 4096}, {4096, 11008}};
  for (const auto& shape : shapes) {
    const int64_t tokens = shape.first;
    const int64_t in = shape.second;
    DeviceBuffer<float> x(static_cast<size_t>(tokens * in));
    DeviceBuffer<float> y(static_cast<size_t>(tokens * in));
    DeviceBuffer<float> h(static_cast<size_t>(in * in));
    fill_uniform<<<blocks_for(tokens * in, 256), 256>>>(x.get(), tokens * in, 1, -1.0f, 1.0f);
    fill_uniform<<<blocks_for(tokens * in, 256), 256>>>(y.get(), tokens * in, 2, -1.0f, 1.0f);
    h.zero();
    DCOMP_CUDA_CHECK(cudaDeviceSynchronize());
    const double flops = 2.0 * static_cast<double>(tokens) * static_cast<double>(in) * static_cast<double>(in);
    auto nothing = [] {};
    auto tflops = [&](double ms) { return flops / (ms * 1e-3) / 1e12; };
    const double tf32 = mean_ms(2, 10, nothing, [&] {
      dcomp::gpu::accumulate_hessian(handle.get(), x.get(), tokens, in, h.get(), dcomp::gpu::HessianPrecision::kTf32);
    });
    const double fp32 = mean_ms(2, 10, nothing, [&] {
      dcomp::gpu::accumulate_hessian(handle.get(), x.get(), tokens, in, h.get(), dcomp::gpu::HessianPrecision::kFp32);
    });
    const int n = static_cast<int>(in);
    const int k = static_cast<int>(tokens);
    const float alpha = 2.0f;
    const float beta = 1.0f;
    // H[in, in] (column-major) += 2·A[in, tokens]·B[tokens, in], A = X viewed column-major, B = Y.
    const double sgemm = mean_ms(2, 10, nothing, [&] {
      DCOMP_CUBLAS_CHECK(cublasSgemm(handle.get(), CUBLAS_OP_N, CUBLAS_OP_N, n, n, k, &alpha, x.get(), n, y.get(), k,
                                     &beta, h.get(), n));
    });
    const double gemm_tf32 = mean_ms(2, 10, nothing, [&] {
      DCOMP_CUBLAS_CHECK(cublasGemmEx(handle.get(), CUBLAS_OP_N, CUBLAS_OP_N, n, n, k, &alpha, x.get(), CUDA_R_32F, n,
                                      y.get(), CUDA_R_32F, k, &beta, h.get(), CUDA_R_32F, n,
                                      CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT));
    });
    std::printf("%8lld %8lld %14.1f %14.1f %14.1f %14.1f\n", static_cast<long long>(tokens),
                static_cast<long long>(in), tflops(tf32), tflops(fp32), tflops(sgemm), tflops(gemm_tf32));
  }
}

void bench_gptq(const CublasHandle& handle) {
  std::printf("\nGPTQ column loop, INT4 symmetric, groups of 128, blocks of 128; µs per column (mean of 3)\n");
  std::printf("%8s %8s %12s %14s %14s %10s %16s\n", "rows", "in", "fused loop", "block steps", "per-column",
              "speed-up", "code mismatches");
  const std::pair<int64_t, int64_t> shapes[] = {{4096, 4096}, {11008, 4096}};
  constexpr int64_t kGroup = 128;
  for (const auto& shape : shapes) {
    const int64_t rows = shape.first;
    const int64_t columns = shape.second;
    const int64_t groups = (columns + kGroup - 1) / kGroup;
    const size_t elements = static_cast<size_t>(rows * columns);
    DeviceBuffer<float> original(elements);
    DeviceBuffer<float> w(elements);
    DeviceBuffer<float> upper(static_cast<size_t>(columns * columns));
    DeviceBuffer<float> scale(static_cast<size_t>(rows * groups));
    DeviceBuffer<float> zero(static_cast<size_t>(rows * groups));
    DeviceBuffer<int8_t> codes(elements);
    DeviceBuffer<int8_t> baseline_codes(elements);
    DeviceBuffer<float> err(static_cast<size_t>(rows * kGroup));
    std::vector<int32_t> host_scale_column(static_cast<size_t>(columns));
    for (int64_t c = 0; c < columns; ++c) host_scale_column[static_cast<size_t>(c)] = static_cast<int32_t>(c / kGroup);
    DeviceBuffer<int32_t> scale_column(host_scale_column);
    fill_uniform<<<blocks_for(rows * columns, 256), 256>>>(original.get(), rows * columns, 3, -1.0f, 1.0f);
    make_upper<<<blocks_for(columns * columns, 256), 256>>>(upper.get(), columns);
    group_scales<<<blocks_for(rows * groups, 256), 256>>>(original.get(), rows, columns, kGroup, scale.get());
    zero.zero();
    DCOMP_CUDA_CHECK(cudaDeviceSynchronize());

    dcomp::gpu::GptqWeight weight;
    weight.weight = w.get();
    weight.rows = rows;
    weight.columns = columns;
    weight.hinv_upper = upper.get();
    dcomp::gpu::GptqQuantTargets targets;
    targets.scale = scale.get();
    targets.zero_point = zero.get();
    targets.scale_row_stride = groups;
    targets.scale_column = scale_column.get();
    targets.q_min = -8.0f;
    targets.q_max = 7.0f;
    targets.codes = codes.get();
    auto reset = [&] {
      DCOMP_CUDA_CHECK(cudaMemcpyAsync(w.get(), original.get(), elements * sizeof(float), cudaMemcpyDeviceToDevice));
    };
    const double fused = mean_ms(1, 3, reset, [&] { dcomp::gpu::gptq_column_loop(weight, targets, handle.get(), err.get()); });
    const std::vector<int8_t> fused_codes = codes.download();

    const double steps_only = mean_ms(1, 3, reset, [&] {
      dcomp::gpu::GptqBlock block;
      block.weight = w.get();
      block.rows = rows;
      block.columns = columns;
      block.hinv_ld = columns;
      block.err = err.get();
      block.err_ld = kGroup;
      for (int64_t first = 0; first < columns; first += kGroup) {
        block.first = first;
        block.count = std::min(kGroup, columns - first);
        block.hinv = upper.get() + first * columns + first;
        dcomp::gpu::gptq_block_step(block, targets, nullptr);
      }
    });

    const float minus_one = -1.0f;
    const float one = 1.0f;
    const double per_column = mean_ms(1, 3, reset, [&] {
      for (int64_t first = 0; first < columns; first += kGroup) {
        const int64_t end = std::min(first + kGroup, columns);
        for (int64_t column = first; column < end; ++column) {
          const float* u_row = upper.get() + column * columns;
          quantize_column<<<blocks_for(rows, 256), 256>>>(w.get(), rows, columns, column, u_row + column, scale.get(),
                                                         zero.get(), groups, static_cast<int32_t>(column / kGroup),
                                                         -8.0f, 7.0f, baseline_codes.get(), err.get(), kGroup,
                                                         column - first);
          if (column + 1 < end) {
            update_block<<<blocks_for(rows * (end - column - 1), 256), 256>>>(w.get(), rows, columns, column, end, u_row,
                                                                             err.get(), kGroup, column - first);
          }
          DCOMP_CUDA_CHECK_LAUNCH("baseline column kernels");
        }
        if (end < columns) {
          DCOMP_CUBLAS_CHECK(cublasGemmEx(handle.get(), CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(columns - end),
                                          static_cast<int>(rows), static_cast<int>(end - first), &minus_one,
                                          upper.get() + first * columns + end, CUDA_R_32F, static_cast<int>(columns),
                                          err.get(), CUDA_R_32F, static_cast<int>(kGroup), &one, w.get() + end,
                                          CUDA_R_32F, static_cast<int>(columns), CUBLAS_COMPUTE_32F,
                                          CUBLAS_GEMM_DEFAULT));
        }
      }
    });
    const std::vector<int8_t> plain_codes = baseline_codes.download();
    int64_t mismatches = 0;
    for (size_t i = 0; i < elements; ++i) mismatches += fused_codes[i] != plain_codes[i];
    const double us = 1000.0 / static_cast<double>(columns);
    std::printf("%8lld %8lld %12.3f %14.3f %14.3f %9.1fx %16lld\n", static_cast<long long>(rows),
                static_cast<long long>(columns), fused * us, steps_only * us, per_column * us, per_column / fused,
                static_cast<long long>(mismatches));
  }
  std::printf("(block steps: the fused launches alone, without the GEMMs; per-column: 2 launches per column + the same GEMMs)\n");
}

}  // namespace

int main() {
  std::string why;
  if (dcomp::gpu::visible_device_count(&why) == 0) {
    std::printf("SKIP: %s\n", why.c_str());
    return 0;
  }
  try {
    cudaDeviceProp prop{};
    DCOMP_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    std::printf("device: %s, %d SMs\n\n", prop.name, prop.multiProcessorCount);
    CublasHandle handle;
    bench_hessian(handle);
    bench_gptq(handle);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gpu: %s\n", e.what());
    return 1;
  }
  return 0;
}
