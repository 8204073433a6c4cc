// reference: arXiv 2210.17323 Algorithm 1; llm-compressor
// src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight, steps 1–11).
#include "kernels/quant/gptq.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>

#include "kernels/quant/gptq_prepared_solve.hpp"
#include "kernels/quant/gptq_solve.hpp"
#include "kernels/quant/gptq_tensor_solve.hpp"
#include "kernels/quant/inverse_hessian.hpp"
#include "kernels/quant/inverse_hessian_tensor.hpp"
#include "kernels/quant/quant_grid.hpp"

namespace dcomp::quant {

using gptq_detail::finish_solve;
using gptq_detail::gptq_loop_grid;
using gptq_detail::per_row_table;
using gptq_detail::prepare_solve;
using gptq_detail::PreparedSolve;

namespace {

void check_inputs(const at::Tensor& weight, const at::Tensor& hessian, const GptqOptions& options) {
  if (!weight.defined() || weight.dim() != 2 || weight.scalar_type() != at::kFloat || weight.numel() == 0) {
    throw std::invalid_argument("gptq_quantize: expected a non-empty fp32 weight [out, in]");
  }
  const int64_t in = weight.size(1);
  if (!hessian.defined() || hessian.dim() != 2 || hessian.size(0) != in || hessian.size(1) != in ||
      hessian.scalar_type() != at::kFloat) {
    throw std::invalid_argument("gptq_quantize: expected an fp32 Hessian [" + std::to_string(in) + ", " +
                                std::to_string(in) + "] for a weight with " + std::to_string(in) + " input columns");
  }
  if (options.block_size <= 0) {
    throw std::invalid_argument("gptq_quantize: block_size must be positive, got " + std::to_string(options.block_size));
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

GptqFactorization gptq_factorize(const at::Tensor& hessian, ActOrder actorder, const GptqOptions& options) {
  GptqFactorization out;
  out.actorder = actorder;
  const bool tensor_ops = options.solver == GptqSolver::TensorOps;
  const at::Tensor h = tensor_ops ? hessian.to(options.device) : hessian;
  // Step 3: columns by decreasing Hessian diagonal (stable for equal diagonals). The
  // Hessian itself is permuted inside the factorization (step 8).
  if (actorder != ActOrder::None) {
    out.perm = std::get<1>(at::sort(h.diagonal(), /*stable=*/true, /*dim=*/0, /*descending=*/true)).contiguous();
  } else {
    out.perm = at::arange(h.size(0), h.options().dtype(at::kLong));
  }
  // Steps 7–8: inputs that never fired carry no information (their diagonal entry
  // becomes 1, their columns are zeroed); damped upper Cholesky factor of the permuted
  // H⁻¹, with retries, else identity (RTN).
  const auto start = std::chrono::steady_clock::now();
  out.factor = tensor_ops ? permuted_inverse_hessian_factor_tensor(h, out.perm, options.dampening_frac,
                                                                   options.max_damping_retries, out.dead)
                          : permuted_inverse_hessian_factor(h, out.perm, options.dampening_frac,
                                                            options.max_damping_retries, out.dead);
  out.seconds = seconds_since(start);
  return out;
}

GptqResult gptq_quantize(const at::Tensor& weight, const at::Tensor& hessian, const QuantizationArgs& args,
                         const GptqOptions& options, const at::Tensor& global_scale,
                         const GptqFactorization* factorization) {
  check_inputs(weight, hessian, options);
  GptqFactorization own;
  if (factorization == nullptr) {
    own = gptq_factorize(hessian, args.actorder, options);
    factorization = &own;
  }
  const double factorization_seconds = factorization == &own ? own.seconds : 0.0;
  if (options.solver == GptqSolver::TensorOps) {
    std::vector<at::Tensor> global_scales;
    if (global_scale.defined()) global_scales.push_back(global_scale);
    GptqResult result = std::move(gptq_quantize_batch({weight}, args, options, {factorization}, global_scales)[0]);
    result.factorization_seconds = factorization_seconds;
    return result;
  }
  PreparedSolve p = prepare_solve(weight, args, *factorization, global_scale);
  p.result.factorization_seconds = factorization_seconds;
  const int64_t rows = weight.size(0);
  const int64_t columns = weight.size(1);
  const int64_t padded_rows = (rows + kGptqRowTile - 1) / kGptqRowTile * kGptqRowTile;
  const at::Tensor scale_table = per_row_table(p.result.qparams.effective_scale(), p.layout, padded_rows, 1.0f);
  const at::Tensor zero_point_table = per_row_table(p.result.qparams.zero_point, p.layout, padded_rows, 0.0f);

  // Step 9: the column loop with lazy block updates; the work ends up dequantized.
  const auto start = std::chrono::steady_clock::now();
  const QuantGrid grid = gptq_loop_grid(args);
  at::Tensor codes = at::empty({rows, columns}, at::TensorOptions().dtype(grid.traits().code_dtype));
  GptqSolveTargets targets;
  targets.grid = grid;
  targets.scale = scale_table.data_ptr<float>();
  targets.zero_point = zero_point_table.data_ptr<float>();
  targets.padded_rows = padded_rows;
  targets.scale_column = p.position_scale_column.data();
  targets.codes = codes.data_ptr();
  targets.vectorized = options.vectorized;
  p.result.loss = gptq_solve(p.work, factorization->factor.upper, options.block_size, targets);
  p.result.column_loop_seconds = seconds_since(start);
  return finish_solve(p, codes, args);
}

std::vector<GptqResult> gptq_quantize_batch(const std::vector<at::Tensor>& weights, const QuantizationArgs& args,
                                            const GptqOptions& options,
                                            const std::vector<const GptqFactorization*>& factorizations,
                                            const std::vector<at::Tensor>& global_scales) {
  const size_t modules = weights.size();
  if (modules == 0) throw std::invalid_argument("gptq_quantize_batch: no weights");
  if (factorizations.size() != 1 && factorizations.size() != modules) {
    throw std::invalid_argument("gptq_quantize_batch: expected one factorization or one per weight, got " +
                                std::to_string(factorizations.size()) + " for " + std::to_string(modules));
  }
  if (!global_scales.empty() && global_scales.size() != modules) {
    throw std::invalid_argument("gptq_quantize_batch: expected no global scales or one per weight");
  }
  for (const at::Tensor& weight : weights) {
    if (!weight.defined() || weight.dim() != 2 || weight.scalar_type() != at::kFloat ||
        weight.sizes() != weights.front().sizes() || weight.numel() == 0) {
      throw std::invalid_argument("gptq_quantize_batch: expected non-empty fp32 weights [out, in] of one shape");
    }
  }
  if (options.block_size <= 0) throw std::invalid_argument("gptq_quantize_batch: block_size must be positive");
  const bool shared = factorizations.size() == 1;
  const auto factorization_of = [&](size_t e) -> const GptqFactorization& {
    const GptqFactorization* f = factorizations[shared ? 0 : e];
    if (f == nullptr) throw std::invalid_argument("gptq_quantize_batch: a factorization is missing");
    return *f;
  };
  const int64_t rows = weights.front().size(0);
  std::vector<PreparedSolve> prepared;
  std::vector<at::Tensor> works, scales, zero_points, scale_columns, uppers;
  for (size_t e = 0; e < modules; ++e) {
    const at::Tensor global_scale = global_scales.empty() ? at::Tensor() : global_scales[e];
    prepared.push_back(prepare_solve(weights[e], args, factorization_of(e), global_scale));
    const PreparedSolve& p = prepared.back();
    works.push_back(p.work);
    scales.push_back(per_row_table(p.result.qparams.effective_scale(), p.layout, rows, 1.0f));  // [SC, rows]
    zero_points.push_back(per_row_table(p.result.qparams.zero_point, p.layout, rows, 0.0f));
    scale_columns.push_back(at::tensor(p.position_scale_column, at::kLong));
    if (!shared || e == 0) uppers.push_back(factorization_of(e).factor.upper.to(options.device));
  }
  // Step 9 on the device: the stacked loop; the codes and the dequantized weights come back.
  const auto start = std::chrono::steady_clock::now();
  at::Tensor work = at::stack(works).to(options.device);  // [E, out, in] fp32
  GptqTensorTargets targets;
  targets.grid = gptq_loop_grid(args);
  targets.scale = at::stack(scales).to(options.device);
  targets.zero_point = at::stack(zero_points).to(options.device);
  targets.scale_column = at::stack(scale_columns).to(options.device);
  const at::Tensor upper = shared ? uppers.front() : at::stack(uppers);
  GptqTensorSolution solution = gptq_solve_tensor(work, upper, options.block_size, targets);
  const at::Tensor host_work = work.to(at::kCPU);
  const at::Tensor host_codes = solution.codes.to(at::kCPU);
  const double seconds = seconds_since(start) / static_cast<double>(modules);
  std::vector<GptqResult> results;
  for (size_t e = 0; e < modules; ++e) {
    PreparedSolve& p = prepared[e];
    p.work = host_work.select(0, static_cast<int64_t>(e)).contiguous();
    p.result.loss = solution.loss[e];
    p.result.column_loop_seconds = seconds;
    results.push_back(finish_solve(p, host_codes.select(0, static_cast<int64_t>(e)).contiguous(), args));
  }
  return results;
}

}  // namespace dcomp::quant
