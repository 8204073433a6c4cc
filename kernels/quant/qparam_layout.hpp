// Where each element of an [out, in] weight finds its scale and zero point, for each
// quantization strategy: one entry (Tensor), one per row (Channel), one per row and
// column group (Group and TensorGroup, Group optionally through g_idx), one per 2-D block (Block).
//
// reference: compressed-tensors quantization/lifecycle/initialize.py (qparam shapes)
// and forward.py (_process_quantization: group and block layouts).
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant {

/// Element (r, c) of the weight uses qparam entry
/// scale[row_to_scale_row[r] * scale_columns + column_to_scale_column[c]] of the
/// contiguous scale tensor.
struct QParamLayout {
  Strategy strategy = Strategy::Tensor;
  int64_t rows = 0;            // out_features
  int64_t columns = 0;         // in_features
  int64_t scale_rows = 1;
  int64_t scale_columns = 1;
  std::vector<int64_t> scale_shape;             // Tensor [1], Channel [out,1], Group [out,n_groups], Block [n_row_blocks,n_col_blocks]
  std::vector<int64_t> row_to_scale_row;        // [out]
  std::vector<int64_t> column_to_scale_column;  // [in]

  int64_t num_qparams() const { return scale_rows * scale_columns; }
  int64_t index(int64_t row, int64_t column) const {
    return row_to_scale_row[static_cast<size_t>(row)] * scale_columns +
           column_to_scale_column[static_cast<size_t>(column)];
  }
};

/// The layout of `args` (its resolved strategy) for a [rows, columns] weight.
/// Group requires group_size to divide `columns`; group g holds columns
/// [g·group_size, (g+1)·group_size), or, when `g_idx` (int [columns]) is given, the
/// columns c with g_idx[c] == g. Block uses block_structure [rows, cols] and rounds the
/// block counts up. Throws QuantConfigError for the Token strategy, a missing or
/// non-dividing group size, a malformed block structure or g_idx.
QParamLayout make_qparam_layout(int64_t rows, int64_t columns, const QuantizationArgs& args,
                                const at::Tensor& g_idx = {});

}  // namespace dcomp::quant
