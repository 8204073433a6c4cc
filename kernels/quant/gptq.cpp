// reference: arXiv 2210.17323 Algorithm 1; llm-compressor
// src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight, steps 1–11).
#include "kernels/quant/gptq.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>

#include "kernels/quant/gptq_solve.hpp"
#include "kernels/quant/inverse_hessian.hpp"
#include "kernels/quant/matrix_copies.hpp"
#include "kernels/quant/observers.hpp"
#include "kernels/quant/qparam_layout.hpp"
#include "kernels/quant/quant_grid.hpp"

namespace dcomp::quant {

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

// One qparam table in the column loop's layout: [scale_columns, padded_rows] fp32,
// entry (c, r) = values[row_to_scale_row[r]·scale_columns + c], padding rows = `pad`.
at::Tensor per_row_table(const at::Tensor& values, const QParamLayout& layout, int64_t padded_rows, float pad) {
  const at::Tensor flat = values.reshape({-1}).to(at::kFloat).contiguous();
  const float* v = flat.data_ptr<float>();
  const int64_t scale_columns = layout.scale_columns;
  at::Tensor table = at::full({scale_columns, padded_rows}, pad, at::kFloat);
  float* t = table.data_ptr<float>();
  for (int64_t c = 0; c < scale_columns; ++c) {
    for (int64_t r = 0; r < layout.rows; ++r) {
      t[c * padded_rows + r] = v[layout.row_to_scale_row[static_cast<size_t>(r)] * scale_columns + c];
    }
  }
  return table;
}

}  // namespace

GptqFactorization gptq_factorize(const at::Tensor& hessian, ActOrder actorder, const GptqOptions& options) {
  GptqFactorization out;
  out.actorder = actorder;
  // Step 3: columns by decreasing Hessian diagonal (stable for equal diagonals). The
  // Hessian itself is permuted inside the factorization (step 8).
  if (actorder != ActOrder::None) {
    out.perm = std::get<1>(at::sort(hessian.diagonal(), /*stable=*/true, /*dim=*/0, /*descending=*/true)).contiguous();
  } else {
    out.perm = at::arange(hessian.size(0), at::kLong);
  }
  // Steps 7–8: inputs that never fired carry no information (their diagonal entry
  // becomes 1, their columns are zeroed); damped upper Cholesky factor of the permuted
  // H⁻¹, with retries, else identity (RTN).
  const auto start = std::chrono::steady_clock::now();
  out.factor = permuted_inverse_hessian_factor(hessian, out.perm, options.dampening_frac, options.max_damping_retries,
                                               out.dead);
  out.seconds = seconds_since(start);
  return out;
}

GptqResult gptq_quantize(const at::Tensor& weight, const at::Tensor& hessian, const QuantizationArgs& args,
                         const GptqOptions& options, const at::Tensor& global_scale,
                         const GptqFactorization* factorization) {
  check_inputs(weight, hessian, options);
  const at::Tensor original = weight.contiguous();  // [out, in] fp32
  if (!all_finite(original.data_ptr<float>(), original.numel())) {
    throw std::invalid_argument("gptq_quantize: the weight contains NaN or infinite values");
  }
  args.validate();
  const QuantGrid grid = QuantGrid::from_args(args);
  const Strategy strategy = args.resolved_strategy();
  if (strategy == Strategy::Token) {
    throw QuantConfigError("gptq_quantize: the token strategy is not supported for weights");
  }
  // Step 2 (actorder Group needs the group strategy) is enforced by validate().
  const ActOrder actorder = args.actorder;

  const int64_t rows = weight.size(0);
  const int64_t columns = weight.size(1);
  at::Tensor w = at::empty({rows, columns}, at::kFloat);  // [out, in] working copy, solve order

  GptqFactorization own;
  if (factorization == nullptr) {
    own = gptq_factorize(hessian, actorder, options);
    factorization = &own;
  } else if (factorization->actorder != actorder || factorization->perm.numel() != columns) {
    throw std::invalid_argument("gptq_quantize: the shared factorization is for another activation order or width");
  }
  const at::Tensor& perm = factorization->perm;  // int64 [in]: solve position → original column
  if (actorder != ActOrder::None) {
    gather_columns(original.data_ptr<float>(), perm.data_ptr<int64_t>(), w.data_ptr<float>(), rows, columns);
  } else {
    w.copy_(original);
  }
  const int64_t* position_column = perm.data_ptr<int64_t>();

  // Steps 4–6: scales fixed before the loop, from the original weight, or from the
  // permuted weight for actorder Group so that its groups are contiguous in that order.
  GptqResult result;
  result.qparams = observe_weight(actorder == ActOrder::Group ? w : original, args, {}, global_scale);
  const QParamLayout layout = make_qparam_layout(rows, columns, args);
  std::vector<int64_t> position_scale_column(static_cast<size_t>(columns));
  for (int64_t p = 0; p < columns; ++p) {
    // actorder Static: each permuted column keeps its original group.
    const int64_t column = actorder == ActOrder::Static ? position_column[p] : p;
    position_scale_column[static_cast<size_t>(p)] = layout.column_to_scale_column[static_cast<size_t>(column)];
  }
  const int64_t padded_rows = (rows + kGptqRowTile - 1) / kGptqRowTile * kGptqRowTile;
  const at::Tensor scale_table = per_row_table(result.qparams.effective_scale(), layout, padded_rows, 1.0f);
  const at::Tensor zero_point_table = per_row_table(result.qparams.zero_point, layout, padded_rows, 0.0f);

  // Steps 7–8 are the factorization's: dead inputs' columns are zeroed here.
  const InverseHessianFactor& factor = factorization->factor;
  result.factorization_seconds = factorization == &own ? own.seconds : 0.0;
  if (factorization->dead.any().item<bool>()) w.masked_fill_(factorization->dead.unsqueeze(0), 0.0f);
  result.damping = factor.damping;
  result.retries = factor.retries;
  result.fell_back_to_rtn = factor.identity_fallback;

  // Step 9: the column loop with lazy block updates; w ends up dequantized.
  const auto start = std::chrono::steady_clock::now();
  at::Tensor codes = at::empty({rows, columns}, at::TensorOptions().dtype(grid.is_float ? at::kByte : at::kChar));
  GptqSolveTargets targets;
  targets.grid = grid;
  targets.scale = scale_table.data_ptr<float>();
  targets.zero_point = zero_point_table.data_ptr<float>();
  targets.padded_rows = padded_rows;
  targets.scale_column = position_scale_column.data();
  targets.codes = codes.data_ptr();
  targets.vectorized = options.vectorized;
  result.loss = gptq_solve(w, factor.upper, options.block_size, targets);
  result.column_loop_seconds = seconds_since(start);

  // Steps 10–11: original column order; g_idx for actorder Group.
  if (actorder != ActOrder::None) {
    const at::Tensor inverse_perm = at::argsort(perm).contiguous();  // original column → solve position
    const int64_t* inverse = inverse_perm.data_ptr<int64_t>();
    permute_columns_in_place(static_cast<uint8_t*>(codes.data_ptr()), inverse, rows, columns);
    permute_columns_in_place(w.data_ptr<float>(), inverse, rows, columns);
    if (actorder == ActOrder::Group) result.g_idx = inverse_perm.div(*args.group_size, "floor").to(at::kInt);
  }
  if (grid.is_fp4) {
    // Upstream stores GPTQ's dequantized weight and packs it again: a −0 there packs as +0
    // (see fp4_e2m1.hpp), so FP4 codes carry no negative zero.
    uint8_t* code = codes.data_ptr<uint8_t>();
    for (int64_t i = 0; i < codes.numel(); ++i) {
      if (code[i] == 8) code[i] = 0;
    }
  }
  result.codes = codes;
  result.dequantized = w;
  return result;
}

}  // namespace dcomp::quant
