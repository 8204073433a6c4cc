// The GPTQ column loop inside one block of at most 128 columns, fused into one kernel
// launch: for each column of the block in order, quantize, compute the error scaled by
// the inverse-Hessian factor, and push it onto the block's later columns. The rest of
// the matrix receives the block's errors as one GEMM afterwards (gptq_column_loop.hpp).
//
// The arithmetic of every element is that of the CPU GPTQ loop (kernels/quant/gptq.hpp,
// with QuantGrid::code / QuantGrid::value): x = w / scale; x += zero; clamp to
// [q_min, q_max] (std::clamp order); round half to even; dequant = (q − zero)·scale;
// err = (w − dequant) / U[i,i]; w[j] −= err·U[i,j] with the product rounded to fp32
// before the subtraction (no fused multiply-add); updates reach a column in column order.
// Each of these is one correctly rounded IEEE fp32 operation, so the kernel and the
// CPU reference below give the same codes, errors and values (the written dequantized
// value comes from the int8 code, so a zero there is +0 where rint gave −0).
//
// reference: Frantar et al., "GPTQ" (arXiv 2210.17323), Algorithm 1 and §3 "Lazy
// Batch-Updates"; llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py
// (quantize_weight: the per-column quantize / error / in-block update); CUDA C++
// Programming Guide (dynamic shared memory above 48 KB via cudaFuncSetAttribute).
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace dcomp::gpu {

/// Largest block the fused step takes (its factor block lives in shared memory).
inline constexpr int64_t kGptqMaxBlockColumns = 128;

/// Where each weight element finds its scale and zero point, the integer grid, and where
/// its code goes. Element (r, c) of the weight uses
///   scale[r·scale_row_stride + scale_column[c]] and zero_point[same index],
/// which covers the Tensor (stride 0, scale_column all 0), Channel (stride 1, all 0) and
/// Group strategies (stride = groups per row, scale_column[c] = group of column c, as in
/// a compressed-tensors scale [out, groups]; with actorder, the group of the column in
/// its original position). Int grids only, e.g. INT4 [−8, 7], INT8 [−128, 127] for both
/// symmetric (zero point 0) and asymmetric schemes.
struct GptqQuantTargets {
  const float* scale = nullptr;           // fp32, layout above
  const float* zero_point = nullptr;      // fp32 holding integers, same layout (zeros when symmetric)
  int64_t scale_row_stride = 0;
  const int32_t* scale_column = nullptr;  // int32 [columns]: column → scale column
  float q_min = -8.0f;                    // integer range of the codes, within [−128, 127]
  float q_max = 7.0f;
  int8_t* codes = nullptr;                // int8 [rows, columns] row-major: the integer codes
};

/// One block [first, first + count) of the columns of a row-major weight.
struct GptqBlock {
  float* weight = nullptr;    // fp32 [rows, columns] row-major; the block's columns hold all
                              // updates from earlier blocks; on return they hold (q − zero)·scale
  int64_t rows = 0;
  int64_t columns = 0;
  int64_t first = 0;          // first column of the block
  int64_t count = 0;          // columns in the block, 1 … kGptqMaxBlockColumns
  const float* hinv = nullptr;  // fp32 block of the upper factor U (UᵀU = H⁻¹), row-major:
                                // U[first + i, first + j] at hinv[i·hinv_ld + j] (e.g. &U[first, first] of the
                                // whole [columns, columns] U with hinv_ld = columns, or a compact [count, count]
                                // copy with hinv_ld = count); only entries on and above the diagonal are read
  int64_t hinv_ld = 0;          // ≥ count
  float* err = nullptr;       // fp32 [rows, err_ld] row-major: err[r, i] = (w − dequant) / U[first+i, first+i]
  int64_t err_ld = 0;         // ≥ count
};

/// The fused block step on the GPU: all pointers are device pointers; one kernel launch
/// on `stream` (asynchronous). Rows are independent: each thread block of 256 threads
/// takes 32 rows, copies U's block (about 68 KB at 128 columns, padded against bank
/// conflicts) and its rows' block columns into shared memory, and gives each row eight
/// threads holding 16 of its columns each in registers. Column by column, the thread
/// holding it quantizes it and passes its error to the other seven with a warp shuffle;
/// each then updates its own later columns. Throws std::invalid_argument for inconsistent
/// sizes or grids and std::runtime_error for a CUDA failure at launch.
void gptq_block_step(const GptqBlock& block, const GptqQuantTargets& targets, cudaStream_t stream);

/// CPU reference of the same step, plain loops in fp32 with the operations listed above
/// (all pointers are host pointers). When `ties` is not null, it receives the number of
/// elements whose clamped x = w / scale + zero fell exactly halfway between two integers
/// (where round half to even decides the code).
void gptq_block_step_reference(const GptqBlock& block, const GptqQuantTargets& targets, int64_t* ties = nullptr);

}  // namespace dcomp::gpu
