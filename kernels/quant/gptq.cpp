// reference: arXiv 2210.17323 Algorithm 1; llm-compressor
// src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight, steps 1–11).
#include "kernels/quant/gptq.hpp"

#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>

#include "kernels/quant/inverse_hessian.hpp"
#include "kernels/quant/lazy_batch_update.hpp"
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
  if (!at::isfinite(weight).all().item<bool>()) {
    throw std::invalid_argument("gptq_quantize: the weight contains NaN or infinite values");
  }
}

}  // namespace

GptqResult gptq_quantize(const at::Tensor& weight, const at::Tensor& hessian, const QuantizationArgs& args,
                         const GptqOptions& options) {
  check_inputs(weight, hessian, options);
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
  const at::Tensor original = weight.contiguous();
  at::Tensor w;  // [out, in] working copy, permuted columns when actorder is set
  at::Tensor h;  // [in, in] working copy, permuted alike

  // Step 3: columns by decreasing Hessian diagonal (stable for equal diagonals).
  at::Tensor perm;  // int64 [in]: permuted position → original column
  if (actorder != ActOrder::None) {
    perm = std::get<1>(at::sort(hessian.diagonal(), /*stable=*/true, /*dim=*/0, /*descending=*/true));
    w = original.index_select(1, perm).contiguous();
    h = hessian.index_select(0, perm).index_select(1, perm).contiguous();
  } else {
    w = original.clone();
    h = hessian.contiguous().clone();
  }

  // Steps 4–6: scales fixed before the loop, from the original weight, or from the
  // permuted weight for actorder Group so that its groups are contiguous in that order.
  GptqResult result;
  result.qparams = observe_weight(actorder == ActOrder::Group ? w : original, args);
  const QParamLayout layout = make_qparam_layout(rows, columns, args);
  std::vector<int64_t> position_scale_column(static_cast<size_t>(columns));
  {
    const at::Tensor perm_values = perm.defined() ? perm.contiguous() : at::Tensor();
    for (int64_t p = 0; p < columns; ++p) {
      // actorder Static: each permuted column keeps its original group.
      const int64_t column = actorder == ActOrder::Static ? perm_values.data_ptr<int64_t>()[p] : p;
      position_scale_column[static_cast<size_t>(p)] = layout.column_to_scale_column[static_cast<size_t>(column)];
    }
  }
  const at::Tensor scale = result.qparams.scale.reshape({-1}).contiguous();
  const at::Tensor zero_point = result.qparams.zero_point.reshape({-1}).to(at::kFloat).contiguous();
  const float* scale_values = scale.data_ptr<float>();
  const float* zero_point_values = zero_point.data_ptr<float>();

  // Step 7: inputs that never fired carry no information; their columns are zeroed.
  const at::Tensor dead = mask_dead_inputs(h);
  w.masked_fill_(dead.unsqueeze(0), 0.0f);

  // Step 8: damped upper Cholesky factor of H⁻¹, with retries, else identity (RTN).
  InverseHessianFactor factor = inverse_hessian_factor(h, options.dampening_frac, options.max_damping_retries);
  h = at::Tensor();
  result.damping = factor.damping;
  result.retries = factor.retries;
  result.fell_back_to_rtn = factor.identity_fallback;

  // Step 9: the column loop with lazy block updates.
  at::Tensor codes = at::empty({rows, columns}, at::TensorOptions().dtype(grid.is_float ? at::kByte : at::kChar));
  uint8_t* fp8_codes = grid.is_float ? codes.data_ptr<uint8_t>() : nullptr;
  int8_t* int_codes = grid.is_float ? nullptr : codes.data_ptr<int8_t>();
  const int64_t scale_columns = layout.scale_columns;
  result.loss = lazy_batch_update(
      w, factor.upper, options.block_size, [](int64_t, int64_t) {},
      [&](int64_t row, int64_t position, int64_t in_block, const float* block_row) -> float {
        const int64_t q = layout.row_to_scale_row[static_cast<size_t>(row)] * scale_columns +
                          position_scale_column[static_cast<size_t>(position)];
        const int32_t code = grid.code(block_row[in_block], scale_values[q], zero_point_values[q]);
        if (fp8_codes != nullptr) {
          fp8_codes[row * columns + position] = static_cast<uint8_t>(code);
        } else {
          int_codes[row * columns + position] = static_cast<int8_t>(code);
        }
        return grid.value(code, scale_values[q], zero_point_values[q]);
      });

  // Steps 10–11: original column order; g_idx for actorder Group.
  if (perm.defined()) {
    const at::Tensor inverse_perm = at::argsort(perm);
    result.codes = codes.index_select(1, inverse_perm);
    result.dequantized = w.index_select(1, inverse_perm);
    if (actorder == ActOrder::Group) result.g_idx = inverse_perm.div(*args.group_size, "floor").to(at::kInt);
  } else {
    result.codes = codes;
    result.dequantized = w;
  }
  return result;
}

}  // namespace dcomp::quant
