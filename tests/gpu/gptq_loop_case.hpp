// One GPTQ problem solved by the project's CPU gptq_quantize, with the inputs of its
// column loop prepared for gptq_column_loop the way gptq_quantize prepares them
// (actorder none): the damped inverse-Hessian factor from inverse_hessian_factor (the
// same LAPACK chain, so the same bits), the scales it chose, and the column → group map.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "kernels/quant/gptq.hpp"
#include "kernels/quant/inverse_hessian.hpp"
#include "kernels/quant/qparam_layout.hpp"

namespace dcomp::gpu::testing {

struct LoopCase {
  std::string name;
  int64_t rows;
  int64_t columns;
  int bits;
  bool symmetric;
  int group;  // columns per group; 0: per channel
};

inline std::ostream& operator<<(std::ostream& os, const LoopCase& c) { return os << c.name; }

struct PreparedLoop {
  at::Tensor x;                 // fp32 [tokens, columns] calibration inputs
  at::Tensor weight;            // fp32 [rows, columns]
  quant::GptqResult cpu;        // codes int8 [rows, columns], dequantized fp32 [rows, columns]
  at::Tensor upper;             // fp32 [columns, columns] row-major U
  std::vector<float> scale;     // scale[r·stride + scale_column[c]]
  std::vector<float> zero;
  int64_t stride = 0;
  std::vector<int32_t> scale_column;
  float q_min = 0;
  float q_max = 0;
};

inline quant::QuantizationArgs args_of(const LoopCase& c) {
  quant::QuantizationArgs args;
  args.num_bits = c.bits;
  args.type = quant::QuantType::Int;
  args.symmetric = c.symmetric;
  if (c.group > 0) {
    args.strategy = quant::Strategy::Group;
    args.group_size = c.group;
  } else {
    args.strategy = quant::Strategy::Channel;
  }
  return args;
}

/// Inputs with neighbouring channels correlated and uneven channel scales (0.2 … 3):
/// x[:, c] = (z[:, c] + 0.5·z[:, c+1])·s_c, fp32 [tokens, columns]; then H = (2/tokens)·xᵀx.
inline PreparedLoop prepare_loop(const LoopCase& c, int64_t tokens, uint64_t seed) {
  PreparedLoop p;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor z = at::randn({tokens, c.columns + 1}, gen, at::kFloat);
  const at::Tensor channel_scale = at::linspace(0.2, 3.0, c.columns, at::kFloat);
  p.x = ((z.narrow(1, 0, c.columns) + 0.5 * z.narrow(1, 1, c.columns)) * channel_scale).contiguous();
  const at::Tensor h = at::mm(p.x.t(), p.x) * (2.0 / static_cast<double>(tokens));
  p.weight = at::randn({c.rows, c.columns}, gen, at::kFloat);
  const quant::QuantizationArgs args = args_of(c);
  p.cpu = quant::gptq_quantize(p.weight, h, args);

  at::Tensor masked = h.clone();
  quant::mask_dead_inputs(masked);
  const quant::GptqOptions defaults;
  p.upper = quant::inverse_hessian_factor(masked, defaults.dampening_frac, defaults.max_damping_retries)
                .upper.contiguous();
  const quant::QParamLayout layout = quant::make_qparam_layout(c.rows, c.columns, args);
  const at::Tensor scale = p.cpu.qparams.scale.reshape({-1}).to(at::kFloat).contiguous();
  const at::Tensor zero = p.cpu.qparams.zero_point.reshape({-1}).to(at::kFloat).contiguous();
  p.scale.assign(scale.data_ptr<float>(), scale.data_ptr<float>() + scale.numel());
  p.zero.assign(zero.data_ptr<float>(), zero.data_ptr<float>() + zero.numel());
  p.stride = layout.scale_columns;
  for (const int64_t g : layout.column_to_scale_column) p.scale_column.push_back(static_cast<int32_t>(g));
  p.q_min = static_cast<float>(args.q_min());
  p.q_max = static_cast<float>(args.q_max());
  return p;
}

}  // namespace dcomp::gpu::testing
