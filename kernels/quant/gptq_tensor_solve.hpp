// The GPTQ column loop written in ATen tensor operations, so that it runs on the device a
// layer lives on (a GPU with --device cuda) and over a stack of same-shape modules at once
// (every expert's gate_proj, say): each column of every module is quantized, its error
// divided by U[i,i] and pushed onto the block's later columns with one broadcast product
// and one subtraction, and the columns after the block receive one GEMM per block.
// Element by element these are the fp32 operations of gptq_solve (the AVX-512 loop) in the
// same order: quantize (grid_tensor_ops.hpp), err = (w − q)/U[i,i], w[j] −= err·U[i,j]
// (product rounded, then subtracted), W[:, i2:] −= Err·U[i1:i2, i2:] through the same
// addmm; so on the CPU its codes, dequantized weights and losses equal gptq_solve's bit for
// bit, which is the test of this path on a machine without a GPU.
//
// reference: Frantar et al., "GPTQ" (arXiv 2210.17323), Algorithm 1 and §3 "Lazy
// Batch-Updates"; llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py
// (quantize_weight, the block loop).
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/quant/quant_grid.hpp"

namespace dcomp::quant {

/// Where the elements of a stack of E modules find their scales and zero points.
struct GptqTensorTargets {
  QuantGrid grid;
  at::Tensor scale;         // fp32 [E, scale_columns, rows]: effective scale of (module, scale column, row)
  at::Tensor zero_point;    // fp32 [E, scale_columns, rows], integers (zeros when symmetric)
  at::Tensor scale_column;  // int64 [E, n]: solve position → scale column, per module
};

/// What the loop leaves besides the dequantized work.
struct GptqTensorSolution {
  at::Tensor codes;          // [E, rows, n] solve order on the work's device: int8 (Int) or uint8 (FP8 bits, FP4 codes)
  std::vector<double> loss;  // [E]: Σ (w − q)² / U[i,i]² / 2, rows summed in order as gptq_solve does
};

/// work: fp32 [E, rows, n] contiguous, the modules in solve order (dead columns zeroed),
/// updated in place to the dequantized weights. upper: fp32 [n, n] U (UᵀU = H⁻¹) shared by
/// all E modules, or [E, n, n] one per module; any strides; on the work's device, as are the
/// targets' tensors. The block GEMM is one addmm per module on the CPU (gptq_solve's call, so
/// the same bytes whatever kernels the BLAS picks by size), and with a shared U on a GPU one
/// addmm over the E·rows rows. Costs the FLOPs of E gptq_solve calls, in about
/// 12·n + 2·n/block_size kernel launches for the whole stack. Throws std::invalid_argument for
/// inconsistent shapes, dtypes or devices.
GptqTensorSolution gptq_solve_tensor(at::Tensor& work, const at::Tensor& upper, int64_t block_size,
                                     const GptqTensorTargets& targets);

}  // namespace dcomp::quant
