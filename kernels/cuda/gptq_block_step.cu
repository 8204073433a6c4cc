// reference: arXiv 2210.17323 Algorithm 1 (the per-column loop within a block);
// llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight);
// CUDA C++ Programming Guide (dynamic shared memory above 48 KB, warp shuffle functions,
// asynchronous global-to-shared copies with the pipeline primitives).
#include "kernels/cuda/gptq_block_step.hpp"

#include <cuda_pipeline.h>

#include <stdexcept>
#include <string>

#include "kernels/cuda/cuda_check.hpp"

namespace dcomp::gpu {

namespace {

constexpr int kRowsPerCta = 32;                       // rows per thread block
constexpr int kSub = 16;                              // columns per thread (registers)
constexpr int kLanesPerRow = 8;                       // threads per row: lane q holds columns 16q … 16q+15
constexpr int kThreads = kRowsPerCta * kLanesPerRow;  // 256
constexpr int kTileLd = kRowsPerCta + 1;              // tile: column c of row r at c·kTileLd + r (padded)
constexpr int kStoreBatch = 8;                        // write-back elements per thread with loads in flight together
static_assert(kSub * kLanesPerRow == kGptqMaxBlockColumns, "the lanes of a row cover the largest block");

// U's block in shared memory, row stride u_ld = count + ⌈count/16⌉: element (i, j) at
// i·u_ld + j + j/16, so the eight lanes of a row, reading columns 16q + m, hit eight banks.
__host__ __device__ constexpr int u_stride(int count) { return count + (count + kSub - 1) / kSub; }
__device__ __forceinline__ int u_at(int i, int j, int u_ld) { return i * u_ld + j + j / kSub; }

size_t shared_bytes(int64_t count) {
  const int c = static_cast<int>(count);
  return static_cast<size_t>(c * u_stride(c)) * sizeof(float)  // U block [count, u_ld]
         + static_cast<size_t>(c * kTileLd) * sizeof(float)    // values, then errors [count, kTileLd]
         + static_cast<size_t>(c) * sizeof(int32_t)            // the block's scale columns [count]
         + static_cast<size_t>(c * kRowsPerCta);               // codes int8 [count, kRowsPerCta]
}

// std::clamp(x, lo, hi): lo if x < lo, hi if hi < x, else x.
__device__ __forceinline__ float clamp_like_std(float x, float lo, float hi) {
  return x < lo ? lo : (hi < x ? hi : x);
}

// The code of value w as a float integer: rint(clamp(w / scale + zero)), round half to even.
__device__ __forceinline__ float quantize(float w, float scale, float zero, float q_min, float q_max) {
  float x = __fdiv_rn(w, scale);
  x = __fadd_rn(x, zero);
  return rintf(clamp_like_std(x, q_min, q_max));
}

// Columns 16s … 16s+15 of the block, in order, for the row of this thread's group of eight
// lanes. Lane s (the owner) quantizes column k = 16s + kk from its register w[kk] and
// shares the error with the group; each lane then pushes it onto its later columns:
// all 16 of its registers when q > s, those after kk when q == s. kFull: the block has
// 128 columns (no bounds checks). Every register index is a compile-time constant.
template <bool kFull>
__device__ __forceinline__ void solve_sub_block(float (&w)[kSub], const float (&scale)[kSub], const float (&zero)[kSub],
                                                int s, int q, int count, int u_ld, const float* u, float q_min,
                                                float q_max, int8_t* codes, bool live_row) {
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int owner = (lane & ~(kLanesPerRow - 1)) | s;
#pragma unroll
  for (int kk = 0; kk < kSub; ++kk) {
    const int k = kSub * s + kk;
    if (!kFull && k >= count) break;  // the same for the whole thread block
    const float value = w[kk];
    const float code = quantize(value, scale[kk], zero[kk], q_min, q_max);
    const float dequant = __fmul_rn(__fsub_rn(code, zero[kk]), scale[kk]);
    const float mine = __fdiv_rn(__fsub_rn(value, dequant), u[u_at(k, k, u_ld)]);
    const float e = __shfl_sync(0xffffffffu, mine, owner);  // the owner's error (column k)
    if (q == s) {
      if (live_row) codes[k * kRowsPerCta] = static_cast<int8_t>(static_cast<int>(code));
      w[kk] = e;
    }
    const float* u_row = u + k * u_ld;
#pragma unroll
    for (int m = 0; m < kSub; ++m) {
      const int j = kSub * q + m;
      if ((q > s || (q == s && m > kk)) && (kFull || j < count)) {
        w[m] = __fsub_rn(w[m], __fmul_rn(e, u_row[j + j / kSub]));
      }
    }
  }
}

__global__ void __launch_bounds__(kThreads, 2) gptq_block_step_kernel(GptqBlock b, GptqQuantTargets t) {
  extern __shared__ float shared[];
  const int count = static_cast<int>(b.count);
  const int u_ld = u_stride(count);
  float* u = shared;                                                            // [count, u_ld]
  float* tile = u + count * u_ld;                                               // [count, kTileLd]
  int32_t* scale_column = reinterpret_cast<int32_t*>(tile + count * kTileLd);  // [count]
  int8_t* code_tile = reinterpret_cast<int8_t*>(scale_column + count);         // [count, kRowsPerCta]
  const int tid = static_cast<int>(threadIdx.x);
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kRowsPerCta;
  const int live = static_cast<int>(min(static_cast<int64_t>(kRowsPerCta), b.rows - row0));
  const int elements = live * count;

  // Loads as asynchronous 4-byte copies, all in flight at once: U's block (zeros below the
  // diagonal), the row tile transposed to column-major, the column → scale-column map.
  for (int idx = tid; idx < count * count; idx += kThreads) {
    const int i = idx / count;
    const int j = idx - i * count;
    if (j >= i) {
      __pipeline_memcpy_async(&u[u_at(i, j, u_ld)], &b.hinv[i * b.hinv_ld + j], sizeof(float));
    } else {
      u[u_at(i, j, u_ld)] = 0.0f;
    }
  }
  for (int idx = tid; idx < elements; idx += kThreads) {  // coalesced along each row
    const int r = idx / count;
    const int c = idx - r * count;
    __pipeline_memcpy_async(&tile[c * kTileLd + r], &b.weight[(row0 + r) * b.columns + b.first + c], sizeof(float));
  }
  for (int c = tid; c < count; c += kThreads) {
    __pipeline_memcpy_async(&scale_column[c], &t.scale_column[b.first + c], sizeof(int32_t));
  }
  __pipeline_commit();
  __pipeline_wait_prior(0);
  __syncthreads();

  {
    // Lane q of row r holds the row's columns 16q … 16q+15 in registers. Rows past the
    // end (live_row false) run along with zeros, for the shuffles, and store nothing.
    const int r = tid / kLanesPerRow;
    const int q = tid % kLanesPerRow;
    const bool live_row = r < live;
    const int64_t row = row0 + (live_row ? r : 0);
    const float* row_scale = t.scale + row * t.scale_row_stride;
    const float* row_zero = t.zero_point + row * t.scale_row_stride;
    float w[kSub];  // values of this lane's columns; each becomes its error once quantized
    float scale[kSub];
    float zero[kSub];
#pragma unroll
    for (int m = 0; m < kSub; ++m) {
      const int c = kSub * q + m;
      if (live_row && c < count) {
        const int32_t group = scale_column[c];
        w[m] = tile[c * kTileLd + r];
        scale[m] = row_scale[group];
        zero[m] = row_zero[group];
      } else {
        w[m] = 0.0f;
        scale[m] = 1.0f;
        zero[m] = 0.0f;
      }
    }
    const int subs = (count + kSub - 1) / kSub;
    for (int s = 0; s < subs; ++s) {
      if (count == kGptqMaxBlockColumns) {
        solve_sub_block<true>(w, scale, zero, s, q, count, u_ld, u, t.q_min, t.q_max, code_tile + r, live_row);
      } else {
        solve_sub_block<false>(w, scale, zero, s, q, count, u_ld, u, t.q_min, t.q_max, code_tile + r, live_row);
      }
    }
#pragma unroll
    for (int m = 0; m < kSub; ++m) {
      const int c = kSub * q + m;
      if (live_row && c < count) tile[c * kTileLd + r] = w[m];
    }
  }
  __syncthreads();

  // Write-back, coalesced along rows, kStoreBatch elements per thread at a time so that
  // their scale / zero-point loads overlap: dequantized values into W, codes, errors.
  for (int base = tid; base < elements; base += kThreads * kStoreBatch) {
    float scale[kStoreBatch];
    float zero[kStoreBatch];
#pragma unroll
    for (int k = 0; k < kStoreBatch; ++k) {
      const int idx = base + k * kThreads;
      if (idx < elements) {
        const int r = idx / count;
        const int64_t q_at = (row0 + r) * t.scale_row_stride + scale_column[idx - r * count];
        scale[k] = t.scale[q_at];
        zero[k] = t.zero_point[q_at];
      }
    }
#pragma unroll
    for (int k = 0; k < kStoreBatch; ++k) {
      const int idx = base + k * kThreads;
      if (idx < elements) {
        const int r = idx / count;
        const int c = idx - r * count;
        const int64_t row = row0 + r;
        const int64_t at = row * b.columns + b.first + c;
        const int8_t code = code_tile[c * kRowsPerCta + r];
        b.weight[at] = __fmul_rn(__fsub_rn(static_cast<float>(code), zero[k]), scale[k]);
        t.codes[at] = code;
        b.err[row * b.err_ld + c] = tile[c * kTileLd + r];
      }
    }
  }
}

void check_arguments(const GptqBlock& b, const GptqQuantTargets& t) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("gptq_block_step: " + what); };
  if (b.count < 1 || b.count > kGptqMaxBlockColumns) fail("count must be in 1 … 128, got " + std::to_string(b.count));
  if (b.rows < 0 || b.first < 0 || b.first + b.count > b.columns) {
    fail("block [" + std::to_string(b.first) + ", " + std::to_string(b.first + b.count) + ") outside " +
         std::to_string(b.columns) + " columns (rows " + std::to_string(b.rows) + ")");
  }
  if (b.err_ld < b.count) fail("err_ld must be ≥ count");
  if (b.hinv_ld < b.count) fail("hinv_ld must be ≥ count");
  if (t.scale_row_stride < 0) fail("scale_row_stride must be ≥ 0");
  if (!(t.q_min >= -128.0f && t.q_max <= 127.0f && t.q_min <= t.q_max)) {
    fail("the integer range [q_min, q_max] must lie within [-128, 127]");
  }
  if (b.rows > 0 && (!b.weight || !b.hinv || !b.err || !t.scale || !t.zero_point || !t.scale_column || !t.codes)) {
    fail("null pointer");
  }
}

}  // namespace

void gptq_block_step(const GptqBlock& block, const GptqQuantTargets& targets, cudaStream_t stream) {
  check_arguments(block, targets);
  if (block.rows == 0) return;
  const size_t shared = shared_bytes(block.count);
  DCOMP_CUDA_CHECK(cudaFuncSetAttribute(gptq_block_step_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(shared_bytes(kGptqMaxBlockColumns))));
  const auto blocks = static_cast<unsigned>((block.rows + kRowsPerCta - 1) / kRowsPerCta);
  gptq_block_step_kernel<<<blocks, kThreads, shared, stream>>>(block, targets);
  DCOMP_CUDA_CHECK_LAUNCH("gptq_block_step_kernel");
}

}  // namespace dcomp::gpu
