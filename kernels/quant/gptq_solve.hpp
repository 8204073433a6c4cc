// The GPTQ column loop on raw buffers: for each block of columns, tiles of 16 rows
// are transposed into a small column-major scratch, so that quantizing one column and
// pushing its error onto the rest of the block are 16-wide vector operations (AVX-512
// when the CPU has it, otherwise a portable loop with the same fp32 operations in the
// same order); the columns after the block then receive one GEMM. The arithmetic of
// every element is that of the upstream loop (quantize, error / U[i,i], rank-1 update
// within the block, matmul for the rest), so the codes are the same bit for bit.
//
// reference: Frantar et al., "GPTQ" (arXiv 2210.17323), Algorithm 1 and §3 "Lazy
// Batch-Updates"; llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py
// (quantize_weight: the block loop and its per-column quantize / error / update).
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "kernels/quant/quant_grid.hpp"

namespace dcomp::quant {

/// Rows per tile of the column loop; GptqSolveTargets::padded_rows is a multiple of it.
inline constexpr int64_t kGptqRowTile = 16;

/// Where each element finds its scale and zero point, and where its codes go.
struct GptqSolveTargets {
  QuantGrid grid;
  // [scale_columns, padded_rows] fp32: the scale of (row r, scale column c) at c·padded_rows + r
  const float* scale = nullptr;
  const float* zero_point = nullptr;  // [scale_columns, padded_rows] fp32 integers, same layout
  int64_t padded_rows = 0;            // rows rounded up to kGptqRowTile (padding: scale 1, zero point 0)
  const int64_t* scale_column = nullptr;  // [n]: solve position → scale column
  void* codes = nullptr;              // [rows, n], solve order: int8 integers (Int) or uint8 E4M3 bits (Float)
  bool vectorized = true;             // use the AVX-512 kernel when the CPU supports it
};

/// work: [rows, n] fp32 contiguous, the weight in solve order, updated in place; on
/// return column j holds its dequantized value (code − zp)·scale. upper: [n, n] fp32
/// U with UᵀU = H⁻¹ (any strides; column-major as inverse_hessian_factor returns it is
/// fine). For each block [i1, i2) of block_size columns and each row, in column order
/// i: q = quantize(w[i]), err = (w[i] − q) / U[i,i], w[j] −= err·U[i,j] for
/// i < j < i2; then work[:, i2:] −= Err · U[i1:i2, i2:] (one addmm). Rows run in
/// parallel (at::parallel_for over tiles). Returns Σ (w − q)² / U[i,i]² / 2.
double gptq_solve(at::Tensor& work, const at::Tensor& upper, int64_t block_size, const GptqSolveTargets& targets);

}  // namespace dcomp::quant
