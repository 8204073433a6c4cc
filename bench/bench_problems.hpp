// Problems the solve benchmarks share: a calibration-like Hessian and the W4A16 weights
// arguments llm-compressor's GPTQ examples use.
#pragma once

#include <cstdint>

#include <ATen/ATen.h>

#include "kernels/quant/quant_args.hpp"

namespace dcomp::bench {

/// x [tokens, in] with a few shared directions and uneven channel scales → Σ 2·xᵀx / tokens,
/// fp32 [in, in].
inline at::Tensor calibration_hessian(int64_t tokens, int64_t in) {
  const at::Tensor shared = at::mm(at::randn({tokens, 64}), at::randn({64, in})) * 0.5;
  const at::Tensor x = (at::randn({tokens, in}) + shared) * at::linspace(0.1, 2.0, in);
  return at::mm(x.t(), x) * (2.0 / static_cast<double>(tokens));
}

/// INT4 symmetric, group 128, activation order static ("weight").
inline quant::QuantizationArgs w4a16_group128_static() {
  quant::QuantizationArgs args;
  args.num_bits = 4;
  args.symmetric = true;
  args.strategy = quant::Strategy::Group;
  args.group_size = 128;
  args.actorder = quant::ActOrder::Static;
  return args;
}

}  // namespace dcomp::bench
