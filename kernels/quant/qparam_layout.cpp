// reference: compressed-tensors quantization/lifecycle/initialize.py, forward.py.
#include "kernels/quant/qparam_layout.hpp"

#include <string>

#include <ATen/ATen.h>

namespace dcomp::quant {

namespace {

int64_t ceil_div(int64_t value, int64_t divisor) { return (value + divisor - 1) / divisor; }

std::string shape_text(int64_t rows, int64_t columns) {
  return "[" + std::to_string(rows) + ", " + std::to_string(columns) + "]";
}

void fill_group_columns(QParamLayout& layout, int64_t group_size, const at::Tensor& g_idx) {
  const int64_t columns = layout.columns;
  if (group_size <= 0) {
    throw QuantConfigError("group quantization: group_size must be positive, got " + std::to_string(group_size));
  }
  if (columns % group_size != 0) {
    throw QuantConfigError("group quantization: group_size " + std::to_string(group_size) +
                           " does not divide the weight's " + std::to_string(columns) + " input columns");
  }
  layout.scale_columns = columns / group_size;
  layout.column_to_scale_column.resize(static_cast<size_t>(columns));
  if (!g_idx.defined()) {
    for (int64_t c = 0; c < columns; ++c) layout.column_to_scale_column[static_cast<size_t>(c)] = c / group_size;
    return;
  }
  if (g_idx.dim() != 1 || g_idx.size(0) != columns || at::isFloatingType(g_idx.scalar_type())) {
    throw QuantConfigError("g_idx must be an integer tensor of shape [" + std::to_string(columns) + "]");
  }
  const at::Tensor groups = g_idx.to(at::kLong).contiguous();
  const int64_t* group = groups.data_ptr<int64_t>();
  for (int64_t c = 0; c < columns; ++c) {
    if (group[c] < 0 || group[c] >= layout.scale_columns) {
      throw QuantConfigError("g_idx[" + std::to_string(c) + "] = " + std::to_string(group[c]) +
                             " is outside [0, " + std::to_string(layout.scale_columns) + ")");
    }
    layout.column_to_scale_column[static_cast<size_t>(c)] = group[c];
  }
}

}  // namespace

QParamLayout make_qparam_layout(int64_t rows, int64_t columns, const QuantizationArgs& args, const at::Tensor& g_idx) {
  if (rows <= 0 || columns <= 0) {
    throw std::invalid_argument("qparam layout: weight shape " + shape_text(rows, columns) + " is empty");
  }
  QParamLayout layout;
  layout.strategy = args.resolved_strategy();
  layout.rows = rows;
  layout.columns = columns;
  layout.row_to_scale_row.assign(static_cast<size_t>(rows), 0);
  layout.column_to_scale_column.assign(static_cast<size_t>(columns), 0);
  if (g_idx.defined() && layout.strategy != Strategy::Group) {
    throw QuantConfigError("g_idx is only meaningful for the group strategy, not " + to_string(layout.strategy));
  }
  switch (layout.strategy) {
    case Strategy::Tensor:
      layout.scale_shape = {1};
      break;
    case Strategy::Channel:
      layout.scale_rows = rows;
      for (int64_t r = 0; r < rows; ++r) layout.row_to_scale_row[static_cast<size_t>(r)] = r;
      layout.scale_shape = {rows, 1};
      break;
    case Strategy::Group:
    case Strategy::TensorGroup: {
      if (!args.group_size) throw QuantConfigError("group quantization: group_size is missing");
      layout.scale_rows = rows;
      for (int64_t r = 0; r < rows; ++r) layout.row_to_scale_row[static_cast<size_t>(r)] = r;
      fill_group_columns(layout, *args.group_size, g_idx);
      layout.scale_shape = {rows, layout.scale_columns};
      break;
    }
    case Strategy::Block: {
      if (!args.block_structure || args.block_structure->size() != 2 || (*args.block_structure)[0] <= 0 ||
          (*args.block_structure)[1] <= 0) {
        throw QuantConfigError("block quantization: block_structure must be two positive sizes [rows, cols]");
      }
      const int64_t block_rows = (*args.block_structure)[0];
      const int64_t block_columns = (*args.block_structure)[1];
      layout.scale_rows = ceil_div(rows, block_rows);
      layout.scale_columns = ceil_div(columns, block_columns);
      for (int64_t r = 0; r < rows; ++r) layout.row_to_scale_row[static_cast<size_t>(r)] = r / block_rows;
      for (int64_t c = 0; c < columns; ++c) layout.column_to_scale_column[static_cast<size_t>(c)] = c / block_columns;
      layout.scale_shape = {layout.scale_rows, layout.scale_columns};
      break;
    }
    case Strategy::Token:
      throw QuantConfigError("the token strategy applies to dynamic activations only, not to weights");
  }
  return layout;
}

}  // namespace dcomp::quant
