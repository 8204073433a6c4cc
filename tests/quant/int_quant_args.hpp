// Integer quantization arguments for the quantization tests (one definition for every test
// file, which a unity build compiles together).
#pragma once

#include <optional>

#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant::test {

inline QuantizationArgs int_args(int bits, bool symmetric, Strategy strategy,
                                 std::optional<int> group_size = std::nullopt) {
  QuantizationArgs args;
  args.num_bits = bits;
  args.type = QuantType::Int;
  args.symmetric = symmetric;
  args.strategy = strategy;
  args.group_size = group_size;
  return args;
}

}  // namespace dcomp::quant::test
