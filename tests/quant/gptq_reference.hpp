// A direct, unblocked, double-precision GPTQ written from the equations (llm-compressor
// gptq_quantize.py quantize_weight, steps 1–11, without the lazy block updates):
//   for each column i in (permuted) order and each row:
//     q = Q(w_i);  err = (w_i − q) / U[i,i];  w_j −= err·U[i,j] for j > i,
// with U the upper Cholesky factor of (H + λI)⁻¹. Scales and zero points come from
// the min/max of the original weight (of the permuted one for actorder Group).
//
// It walks alongside an implementation's codes: where the two disagree, the
// disagreement counts as a tie flip when the reference value sits within `tie_tolerance`
// of the rounding boundary between the two codes (fp32 and double land on different
// sides of an exact tie), and the reference then continues with the implementation's
// code; any other disagreement is a mismatch.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <optional>
#include <vector>

#include <ATen/ATen.h>

#include "kernels/quant/qparams.hpp"
#include "kernels/quant/quant_args.hpp"
#include "tests/quant/fp8_reference.hpp"
#include "tests/quant/reference_linalg.hpp"

namespace dcomp::quant::testing {

struct ReferenceGptqOutcome {
  std::vector<double> scale;       // per qparam, in qparam order
  std::vector<double> zero_point;  // per qparam
  Matrix dequantized;              // [out, in], original column order
  std::vector<int64_t> perm;       // permuted position → original column
  double loss = 0.0;
  int tie_flips = 0;
  int mismatches = 0;
};

/// args: the GPTQ quantization args (Int or Float; Tensor, Channel, Group or Block).
/// impl_codes: [out, in] int8 / uint8 codes of the implementation, original order.
/// given: when set, these qparams are used instead of the reference's own min/max.
inline ReferenceGptqOutcome reference_gptq(const at::Tensor& weight, const at::Tensor& hessian,
                                           const QuantizationArgs& args, double dampening_frac,
                                           const at::Tensor& impl_codes, const QParams* given = nullptr,
                                           double tie_tolerance = 1e-4) {
  const Matrix original = to_matrix(weight);
  const Matrix full_h = to_matrix(hessian);
  const int64_t rows = original.rows;
  const int64_t n = original.cols;
  const bool is_float = args.type == QuantType::Float;
  const double q_max = is_float ? 448.0 : std::ldexp(1.0, args.num_bits - 1) - 1.0;
  const double q_min = is_float ? -448.0 : -std::ldexp(1.0, args.num_bits - 1);
  const Strategy strategy = args.resolved_strategy();
  const ActOrder actorder = args.actorder;

  ReferenceGptqOutcome out;
  out.perm.resize(static_cast<size_t>(n));
  std::iota(out.perm.begin(), out.perm.end(), 0);
  if (actorder != ActOrder::None) {
    std::stable_sort(out.perm.begin(), out.perm.end(),
                     [&](int64_t a, int64_t b) { return full_h(a, a) > full_h(b, b); });
  }
  Matrix w(rows, n);
  Matrix h(n, n);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t p = 0; p < n; ++p) w(r, p) = original(r, out.perm[p]);
  }
  for (int64_t p = 0; p < n; ++p) {
    for (int64_t q = 0; q < n; ++q) h(p, q) = full_h(out.perm[p], out.perm[q]);
  }

  // Qparam index of element (r, c) of the observed matrix (original, or permuted for actorder Group).
  int64_t scale_columns = 1;
  auto qparam_index = [&](int64_t r, int64_t c) -> int64_t {
    switch (strategy) {
      case Strategy::Tensor: return 0;
      case Strategy::Channel: return r;
      case Strategy::Group: return r * scale_columns + c / *args.group_size;
      default: {  // Block
        const int64_t block_rows = (*args.block_structure)[0];
        const int64_t block_cols = (*args.block_structure)[1];
        return (r / block_rows) * scale_columns + c / block_cols;
      }
    }
  };
  int64_t num_qparams = 1;
  if (strategy == Strategy::Channel) num_qparams = rows;
  if (strategy == Strategy::Group) {
    scale_columns = n / *args.group_size;
    num_qparams = rows * scale_columns;
  }
  if (strategy == Strategy::Block) {
    const int64_t block_rows = (*args.block_structure)[0];
    const int64_t block_cols = (*args.block_structure)[1];
    scale_columns = (n + block_cols - 1) / block_cols;
    num_qparams = ((rows + block_rows - 1) / block_rows) * scale_columns;
  }

  const Matrix& observed = actorder == ActOrder::Group ? w : original;
  out.scale.assign(static_cast<size_t>(num_qparams), 0.0);
  out.zero_point.assign(static_cast<size_t>(num_qparams), 0.0);
  if (given != nullptr) {
    const at::Tensor s = given->scale.to(at::kDouble).reshape({-1}).contiguous();
    const at::Tensor z = given->zero_point.to(at::kDouble).reshape({-1}).contiguous();
    out.scale.assign(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
    out.zero_point.assign(z.data_ptr<double>(), z.data_ptr<double>() + z.numel());
  } else {
    std::vector<double> lo(static_cast<size_t>(num_qparams), 0.0);  // 0 is always inside the range
    std::vector<double> hi(static_cast<size_t>(num_qparams), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < n; ++c) {
        const int64_t q = qparam_index(r, c);
        lo[q] = std::min(lo[q], observed(r, c));
        hi[q] = std::max(hi[q], observed(r, c));
      }
    }
    for (int64_t q = 0; q < num_qparams; ++q) {
      double scale;
      double zero_point = 0.0;
      if (args.symmetric) {
        scale = std::max(-lo[q], hi[q]) / ((q_max - q_min) / 2.0);
      } else {
        scale = (hi[q] - lo[q]) / (q_max - q_min);
        zero_point = scale == 0.0 ? 0.0 : std::nearbyint(std::clamp(q_min - lo[q] / scale, q_min, q_max));
      }
      out.scale[q] = scale == 0.0 ? static_cast<double>(std::numeric_limits<float>::epsilon()) : scale;
      out.zero_point[q] = zero_point;
    }
  }

  mask_dead(h, w);
  const Matrix u = upper_factor_of_damped_inverse(h, damping_of(h, dampening_frac));

  const at::Tensor codes = impl_codes.to(at::kInt).contiguous();
  const int* impl = codes.data_ptr<int>();
  out.dequantized = Matrix(rows, n);
  for (int64_t p = 0; p < n; ++p) {
    const int64_t column = out.perm[p];
    const int64_t observed_column = actorder == ActOrder::Group ? p : column;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t q = qparam_index(r, observed_column);
      const double s = out.scale[q];
      const double z = out.zero_point[q];
      const double v = std::clamp(w(r, p) / s + z, q_min, q_max);
      int code;
      double level;  // the quantized value on the grid, before (− zp)·scale
      const int impl_code = impl[r * n + column];
      if (is_float) {
        code = fp8_slow_encode(v);
        if (code != impl_code) {
          const double a = fp8_definition_value(code);
          const double b = fp8_definition_value(impl_code);
          const double midpoint = (a + b) / 2.0;
          const bool neighbours = std::abs((code & 0x7F) - (impl_code & 0x7F)) <= 1;
          if (neighbours && std::fabs(v - midpoint) <= tie_tolerance * std::max(std::fabs(midpoint), 1e-3)) {
            ++out.tie_flips;
            code = impl_code;
          } else {
            ++out.mismatches;
          }
        }
        level = fp8_definition_value(code);
      } else {
        code = static_cast<int>(std::nearbyint(v));
        if (code != impl_code) {
          const bool at_half = std::fabs(std::fabs(v - std::floor(v)) - 0.5) <= tie_tolerance;
          if (at_half && std::abs(code - impl_code) == 1) {
            ++out.tie_flips;
            code = impl_code;
          } else {
            ++out.mismatches;
          }
        }
        level = code;
      }
      const double quantized = (level - z) * s;
      const double diff = w(r, p) - quantized;
      const double d = u(p, p);
      out.loss += diff * diff / (d * d) / 2.0;
      const double err = diff / d;
      for (int64_t j = p + 1; j < n; ++j) w(r, j) -= err * u(p, j);
      out.dequantized(r, column) = quantized;
    }
  }
  return out;
}

}  // namespace dcomp::quant::testing
