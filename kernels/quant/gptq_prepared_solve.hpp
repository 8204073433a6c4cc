// What every GPTQ solve prepares on the host around its column loop (gptq.hpp's steps 3–8
// before it, 10–11 after it), shared by the host loop, the row-sliced solve and the tensor-ops
// loop so that all three start from the same bytes.
//
// reference: llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight,
// steps 1–11).
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/quant/gptq.hpp"
#include "kernels/quant/qparam_layout.hpp"
#include "kernels/quant/quant_grid.hpp"

namespace dcomp::quant::gptq_detail {

struct PreparedSolve {
  GptqResult result;  // qparams and the factorization's damping so far
  at::Tensor work;    // [out, in] fp32, solve order, dead inputs' columns zeroed
  QParamLayout layout;
  std::vector<int64_t> position_scale_column;  // [in]: solve position → scale column
  at::Tensor perm;    // int64 [in] on the host: solve position → original column
};

/// Steps 2–8 for `weight` ([out, in] fp32, host) with `factorization` (any device): scales
/// observed (on the permuted weight for actorder Group), the weight permuted, dead columns
/// zeroed. Throws std::invalid_argument / QuantConfigError as gptq_quantize does.
PreparedSolve prepare_solve(const at::Tensor& weight, const QuantizationArgs& args,
                            const GptqFactorization& factorization, const at::Tensor& global_scale);

/// Steps 10–11 on the loop's codes ([out, in] host, solve order): original column order,
/// g_idx for actorder Group, FP4's −0 codes as +0. On a BF16 / F16 model the dequantized weight
/// is rounded to the model dtype (`W.to(final_dtype)`) and the codes are the ones the compressor
/// gives that stored weight with the stored scales (quantize_codes), as llm-compressor saves them.
/// Moves p.result out.
GptqResult finish_solve(PreparedSolve& p, at::Tensor codes, const QuantizationArgs& args);

/// The column loop's grid: that of `args`, but with FP32 inputs (the weight is upcast to FP32
/// for the solve, so x / scale is not rounded to the model dtype; the dequantized values still are).
QuantGrid gptq_loop_grid(const QuantizationArgs& args);

/// One qparam table in the column loop's layout: [scale_columns, padded_rows] fp32,
/// entry (c, r) = values[row_to_scale_row[r]·scale_columns + c], padding rows = `pad`.
at::Tensor per_row_table(const at::Tensor& values, const QParamLayout& layout, int64_t padded_rows, float pad);

}  // namespace dcomp::quant::gptq_detail
