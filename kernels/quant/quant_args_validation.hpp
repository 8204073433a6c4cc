// The consistency checks of QuantizationArgs, with the field names prefixed by where the
// arguments came from (e.g. "config_groups.group_0.weights").
// reference: compressed-tensors src/compressed_tensors/quantization/quant_args.py (validators)
#pragma once

#include <string>

#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant {

/// Throws QuantConfigError naming `where` + the field when `args` is inconsistent (bits 1..8 for
/// Int, 8 or 4 for Float, group_size for Group, the FP4 layouts NVFP4 and MXFP4, ...).
void validate_quantization_args(const QuantizationArgs& args, const std::string& where);

}  // namespace dcomp::quant
