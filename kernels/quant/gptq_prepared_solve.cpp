// reference: llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight, steps 2–11).
#include "kernels/quant/gptq_prepared_solve.hpp"

#include <stdexcept>
#include <utility>

#include <ATen/ATen.h>

#include "kernels/quant/element_formats.hpp"
#include "kernels/quant/matrix_copies.hpp"
#include "kernels/quant/observers.hpp"
#include "kernels/quant/qparams.hpp"

namespace dcomp::quant::gptq_detail {

namespace {

// [out, in] fp32 → the same values rounded to `dtype` (BF16 or F16), back in fp32.
at::Tensor round_weight_to(FloatDType dtype, const at::Tensor& weight) {
  return weight.to(dtype == FloatDType::F16 ? at::kHalf : at::kBFloat16).to(at::kFloat).contiguous();
}

}  // namespace

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

PreparedSolve prepare_solve(const at::Tensor& weight, const QuantizationArgs& args,
                            const GptqFactorization& factorization, const at::Tensor& global_scale) {
  const at::Tensor original = weight.contiguous();  // [out, in] fp32
  if (!all_finite(original.data_ptr<float>(), original.numel())) {
    throw std::invalid_argument("gptq_quantize: the weight contains NaN or infinite values");
  }
  args.validate();  // step 2: actorder Group needs the group strategy
  if (args.resolved_strategy() == Strategy::Token) {
    throw QuantConfigError("gptq_quantize: the token strategy is not supported for weights");
  }
  const ActOrder actorder = args.actorder;
  const int64_t rows = weight.size(0);
  const int64_t columns = weight.size(1);
  if (factorization.actorder != actorder || factorization.perm.numel() != columns) {
    throw std::invalid_argument("gptq_quantize: the shared factorization is for another activation order or width");
  }
  PreparedSolve p;
  p.perm = factorization.perm.to(at::kCPU).contiguous();
  p.work = at::empty({rows, columns}, at::kFloat);
  if (actorder != ActOrder::None) {
    gather_columns(original.data_ptr<float>(), p.perm.data_ptr<int64_t>(), p.work.data_ptr<float>(), rows, columns);
  } else {
    p.work.copy_(original);
  }
  const int64_t* position_column = p.perm.data_ptr<int64_t>();
  // Steps 4–6: scales fixed before the loop, from the original weight, or from the
  // permuted weight for actorder Group so that its groups are contiguous in that order.
  p.result.qparams = observe_weight(actorder == ActOrder::Group ? p.work : original, args, {}, global_scale);
  p.layout = make_qparam_layout(rows, columns, args);
  p.position_scale_column.resize(static_cast<size_t>(columns));
  for (int64_t c = 0; c < columns; ++c) {
    // actorder Static: each permuted column keeps its original group.
    const int64_t column = actorder == ActOrder::Static ? position_column[c] : c;
    p.position_scale_column[static_cast<size_t>(c)] = p.layout.column_to_scale_column[static_cast<size_t>(column)];
  }
  // Steps 7–8 are the factorization's: dead inputs' columns are zeroed here.
  const at::Tensor dead = factorization.dead.to(at::kCPU);
  if (dead.any().item<bool>()) p.work.masked_fill_(dead.unsqueeze(0), 0.0f);
  p.result.damping = factorization.factor.damping;
  p.result.retries = factorization.factor.retries;
  p.result.fell_back_to_rtn = factorization.factor.identity_fallback;
  return p;
}

GptqResult finish_solve(PreparedSolve& p, at::Tensor codes, const QuantizationArgs& args) {
  const int64_t rows = p.work.size(0);
  const int64_t columns = p.work.size(1);
  if (args.actorder != ActOrder::None) {
    const at::Tensor inverse_perm = at::argsort(p.perm).contiguous();  // original column → solve position
    const int64_t* inverse = inverse_perm.data_ptr<int64_t>();
    permute_columns_in_place(static_cast<uint8_t*>(codes.data_ptr()), inverse, rows, columns);
    permute_columns_in_place(p.work.data_ptr<float>(), inverse, rows, columns);
    if (args.actorder == ActOrder::Group) p.result.g_idx = inverse_perm.div(*args.group_size, "floor").to(at::kInt);
  }
  if (args.model_dtype != FloatDType::F32) {
    // llm-compressor keeps the solved weight in the model dtype and its compressor quantizes that
    // with the stored scales: the codes are taken from the weight as stored.
    p.work = round_weight_to(args.model_dtype, p.work);
    codes = quantize_codes(p.work, p.result.qparams, args, p.result.g_idx);
  }
  if (args.element_format() == ElementFormat::Fp4E2m1) {
    // Upstream stores GPTQ's dequantized weight and packs it again: a −0 there packs as +0
    // (see fp4_e2m1.hpp), so FP4 codes carry no negative zero.
    uint8_t* code = codes.data_ptr<uint8_t>();
    for (int64_t i = 0; i < codes.numel(); ++i) {
      if (code[i] == 8) code[i] = 0;
    }
  }
  p.result.codes = codes;
  p.result.dequantized = p.work;
  return std::move(p.result);
}

QuantGrid gptq_loop_grid(const QuantizationArgs& args) {
  QuantGrid grid = QuantGrid::from_args(args);
  grid.input_dtype = FloatDType::F32;
  return grid;
}

}  // namespace dcomp::quant::gptq_detail
