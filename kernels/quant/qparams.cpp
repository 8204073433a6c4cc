// reference: compressed-tensors quantization/utils/helpers.py (calculate_qparams),
// quantization/lifecycle/forward.py (_process_quantization, _quantize, _dequantize).
#include "kernels/quant/qparams.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "kernels/quant/qparam_layout.hpp"
#include "kernels/quant/quant_grid.hpp"

namespace dcomp::quant {

namespace {

constexpr int64_t kRowsPerTask = 8;

std::string shape_of(const at::Tensor& t) {
  std::string text = "[";
  for (int64_t d = 0; d < t.dim(); ++d) text += (d ? ", " : "") + std::to_string(t.size(d));
  return text + "]";
}

void check_matrix(const at::Tensor& t, at::ScalarType dtype, const char* what) {
  if (!t.defined() || t.dim() != 2 || t.scalar_type() != dtype) {
    throw std::invalid_argument(std::string(what) + ": expected a 2-D " + c10::toString(dtype) + " tensor [out, in], got " +
                                (t.defined() ? std::string(c10::toString(t.scalar_type())) + " " + shape_of(t) : "none"));
  }
}

// The scale and zero point of `qparams` as contiguous fp32 arrays, checked against the layout.
struct FlatQParams {
  at::Tensor scale;       // fp32 [num_qparams]
  at::Tensor zero_point;  // fp32 [num_qparams]
};

FlatQParams flatten_checked(const QParams& qparams, const QParamLayout& layout, const char* what) {
  const int64_t expected = layout.num_qparams();
  if (!qparams.scale.defined() || qparams.scale.numel() != expected) {
    throw std::invalid_argument(std::string(what) + ": scale has shape " +
                                (qparams.scale.defined() ? shape_of(qparams.scale) : "none") + ", the " +
                                to_string(layout.strategy) + " strategy needs " + std::to_string(expected) +
                                " entries");
  }
  if ((layout.strategy == Strategy::TensorGroup) != qparams.global_scale.defined()) {
    throw std::invalid_argument(std::string(what) + (qparams.global_scale.defined()
                                                         ? ": a global scale is given, but the strategy is " +
                                                               to_string(layout.strategy)
                                                         : ": tensor_group quantization needs its global scale"));
  }
  if (layout.strategy != Strategy::Tensor && qparams.scale.sizes() != at::IntArrayRef(layout.scale_shape)) {
    throw std::invalid_argument(std::string(what) + ": scale has shape " + shape_of(qparams.scale) + ", expected [" +
                                std::to_string(layout.scale_shape[0]) + ", " + std::to_string(layout.scale_shape[1]) + "]");
  }
  FlatQParams flat;
  flat.scale = qparams.effective_scale().reshape({expected}).contiguous();
  if (qparams.zero_point.defined()) {
    if (qparams.zero_point.numel() != expected) {
      throw std::invalid_argument(std::string(what) + ": zero_point has shape " + shape_of(qparams.zero_point) +
                                  ", scale has " + shape_of(qparams.scale));
    }
    flat.zero_point = qparams.zero_point.to(at::kFloat).reshape({expected}).contiguous();
  } else {
    flat.zero_point = at::zeros({expected}, at::kFloat);
  }
  return flat;
}

}  // namespace

at::Tensor QParams::effective_scale() const {
  const at::Tensor values = scale.to(at::kFloat);
  if (!global_scale.defined()) return values;
  return values / global_scale.to(at::kFloat).reshape({1});
}

at::Tensor global_scale_for_absmax(float absmax, FloatDType dtype) {
  return at::full({1}, fp4_global_scale(absmax, dtype), at::kFloat);
}

QParams compute_qparams(const at::Tensor& min_vals, const at::Tensor& max_vals, const QuantizationArgs& args,
                        const at::Tensor& global_scale) {
  if (!min_vals.defined() || !max_vals.defined() || min_vals.sizes() != max_vals.sizes()) {
    throw std::invalid_argument("compute_qparams: min_vals and max_vals must be defined and of one shape");
  }
  const bool tensor_group = args.resolved_strategy() == Strategy::TensorGroup;
  if (tensor_group && (!global_scale.defined() || global_scale.numel() != 1)) {
    throw std::invalid_argument("compute_qparams: tensor_group quantization needs one global scale");
  }
  const float global = tensor_group ? global_scale.to(at::kFloat).reshape({1}).item<float>() : 0.0f;
  const QuantGrid grid = QuantGrid::from_args(args);
  const at::Tensor mins = min_vals.to(at::kFloat).contiguous();
  const at::Tensor maxs = max_vals.to(at::kFloat).contiguous();
  std::vector<int64_t> shape = min_vals.sizes().vec();
  if (shape.empty()) shape.push_back(1);
  QParams result;
  result.scale = at::empty(shape, at::kFloat);
  result.zero_point = at::empty(shape, at::kInt);
  const float* lo = mins.data_ptr<float>();
  const float* hi = maxs.data_ptr<float>();
  float* scale = result.scale.data_ptr<float>();
  int32_t* zero_point = result.zero_point.data_ptr<int32_t>();
  for (int64_t i = 0; i < mins.numel(); ++i) {
    const ScalarQParams entry = grid.qparams(lo[i], hi[i], global);
    scale[i] = entry.scale;
    zero_point[i] = static_cast<int32_t>(entry.zero_point);
  }
  if (tensor_group) result.global_scale = global_scale.to(at::kFloat).reshape({1}).clone();
  return result;
}

at::Tensor quantize_codes(const at::Tensor& w, const QParams& qparams, const QuantizationArgs& args,
                          const at::Tensor& g_idx) {
  check_matrix(w, at::kFloat, "quantize_codes: weight");
  const QuantGrid grid = QuantGrid::from_args(args);
  const QParamLayout layout = make_qparam_layout(w.size(0), w.size(1), args, g_idx);
  const FlatQParams flat = flatten_checked(qparams, layout, "quantize_codes");
  const at::Tensor input = w.contiguous();
  const bool byte_codes = grid.traits().code_dtype == at::kByte;  // float bit patterns, else int8
  at::Tensor codes = at::empty(input.sizes(), at::TensorOptions().dtype(grid.traits().code_dtype));
  const float* x = input.data_ptr<float>();
  uint8_t* byte_out = byte_codes ? codes.data_ptr<uint8_t>() : nullptr;
  int8_t* int_out = byte_codes ? nullptr : codes.data_ptr<int8_t>();
  const float* scale = flat.scale.data_ptr<float>();
  const float* zero_point = flat.zero_point.data_ptr<float>();
  const int64_t columns = layout.columns;
  at::parallel_for(0, layout.rows, kRowsPerTask, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t c = 0; c < columns; ++c) {
        const int64_t i = r * columns + c;
        const int64_t q = layout.index(r, c);
        const int32_t code = grid.code(x[i], scale[q], zero_point[q]);
        if (byte_out != nullptr) {
          byte_out[i] = static_cast<uint8_t>(code);
        } else {
          int_out[i] = static_cast<int8_t>(code);
        }
      }
    }
  });
  return codes;
}

at::Tensor dequantize_codes(const at::Tensor& codes, const QParams& qparams, const QuantizationArgs& args,
                            const at::Tensor& g_idx) {
  const QuantGrid grid = QuantGrid::from_args(args);
  const bool byte_codes = grid.traits().code_dtype == at::kByte;  // float bit patterns, else int8
  check_matrix(codes, grid.traits().code_dtype, "dequantize_codes: codes");
  const QParamLayout layout = make_qparam_layout(codes.size(0), codes.size(1), args, g_idx);
  const FlatQParams flat = flatten_checked(qparams, layout, "dequantize_codes");
  const at::Tensor input = codes.contiguous();
  at::Tensor values = at::empty(input.sizes(), at::TensorOptions().dtype(at::kFloat));
  float* out = values.data_ptr<float>();
  const uint8_t* byte_in = byte_codes ? input.data_ptr<uint8_t>() : nullptr;
  const int8_t* int_in = byte_codes ? nullptr : input.data_ptr<int8_t>();
  const float* scale = flat.scale.data_ptr<float>();
  const float* zero_point = flat.zero_point.data_ptr<float>();
  const int64_t columns = layout.columns;
  at::parallel_for(0, layout.rows, kRowsPerTask, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t c = 0; c < columns; ++c) {
        const int64_t i = r * columns + c;
        const int64_t q = layout.index(r, c);
        const int32_t code = byte_in != nullptr ? int32_t{byte_in[i]} : int32_t{int_in[i]};
        out[i] = grid.value(code, scale[q], zero_point[q]);
      }
    }
  });
  return values;
}

at::Tensor fake_quantize(const at::Tensor& w, const QParams& qparams, const QuantizationArgs& args,
                         const at::Tensor& g_idx) {
  check_matrix(w, at::kFloat, "fake_quantize: weight");
  const QuantGrid grid = QuantGrid::from_args(args);
  const QParamLayout layout = make_qparam_layout(w.size(0), w.size(1), args, g_idx);
  const FlatQParams flat = flatten_checked(qparams, layout, "fake_quantize");
  const at::Tensor input = w.contiguous();
  at::Tensor values = at::empty(input.sizes(), at::TensorOptions().dtype(at::kFloat));
  const float* x = input.data_ptr<float>();
  float* out = values.data_ptr<float>();
  const float* scale = flat.scale.data_ptr<float>();
  const float* zero_point = flat.zero_point.data_ptr<float>();
  const int64_t columns = layout.columns;
  at::parallel_for(0, layout.rows, kRowsPerTask, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t c = 0; c < columns; ++c) {
        const int64_t q = layout.index(r, c);
        out[r * columns + c] = grid.value(grid.code(x[r * columns + c], scale[q], zero_point[q]), scale[q], zero_point[q]);
      }
    }
  });
  return values;
}

}  // namespace dcomp::quant
