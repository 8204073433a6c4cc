// reference: compressed-tensors quantization/utils/helpers.py (calculate_range).
#include "kernels/quant/quant_grid.hpp"

namespace dcomp::quant {

QuantGrid QuantGrid::from_args(const QuantizationArgs& args) {
  QuantGrid grid;
  grid.is_float = args.type == QuantType::Float;
  grid.symmetric = args.symmetric;
  if (grid.is_float && !grid.symmetric) {
    throw QuantConfigError("quantization args: asymmetric FP8 (type float, symmetric false) is not supported");
  }
  grid.q_min = static_cast<float>(args.q_min());
  grid.q_max = static_cast<float>(args.q_max());
  grid.bit_range = grid.q_max - grid.q_min;
  grid.half_bit_range = static_cast<float>(static_cast<double>(grid.bit_range) / 2.0);
  return grid;
}

}  // namespace dcomp::quant
