// Consistency checks of quantization arguments: bit widths per type, group sizes per strategy,
// the FP4 layouts (NVFP4, MXFP4), dynamic and locally dynamic activations, block structure and
// activation ordering.
//
// reference: compressed-tensors src/compressed_tensors/quantization/quant_args.py
// (QuantizationArgs validators, model_validator "validate_model_after").
#include "kernels/quant/quant_args_validation.hpp"

namespace dcomp::quant {
namespace {

[[noreturn]] void reject(const std::string& where, const std::string& problem) {
    throw QuantConfigError(where + ": " + problem);
}

// The FP4 layouts compressed-tensors and vLLM know: NVFP4 (tensor_group, groups of 16, FP8
// scales) and MXFP4 (group, groups of 32, E8M0 scales); no zero points.
void validate_fp4_layout(const QuantizationArgs& args, Strategy strategy, const std::string& where) {
  if (!args.symmetric) {
    reject(where + ".symmetric", "FP4 (E2M1) quantization is symmetric only: asymmetric zero points cannot be "
                                 "stored in the NVFP4 or MXFP4 formats");
  }
  const int group = args.group_size.value_or(0);
  const bool nvfp4 = strategy == Strategy::TensorGroup && group == 16 && args.scale_dtype == ScaleDType::Fp8E4m3;
  const bool mxfp4 = strategy == Strategy::Group && group == 32 && args.scale_dtype == ScaleDType::E8M0;
  if (!nvfp4 && !mxfp4) {
    reject(where, "FP4 needs the NVFP4 layout (strategy tensor_group, group_size 16, scale_dtype "
                  "torch.float8_e4m3fn) or the MXFP4 layout (strategy group, group_size 32, scale_dtype torch.uint8); "
                  "got strategy " + to_string(strategy) + ", group_size " +
                  (args.group_size ? std::to_string(*args.group_size) : std::string("null")) + ", scale_dtype " +
                  (scale_dtype_name(args.scale_dtype) ? scale_dtype_name(args.scale_dtype) : "null"));
  }
}

}  // namespace

void validate_quantization_args(const QuantizationArgs& args, const std::string& where) {
  if (args.type == QuantType::Int && (args.num_bits < 1 || args.num_bits > 8)) {
    reject(where + ".num_bits", "integer quantization needs 1..8 bits, got " + std::to_string(args.num_bits));
  }
  if (args.type == QuantType::Float && args.num_bits != 8 && args.num_bits != 4) {
    reject(where + ".num_bits", "float quantization supports 8 bits (FP8 E4M3) and 4 bits (FP4 E2M1), got " +
                                    std::to_string(args.num_bits));
  }
  if (args.group_size && *args.group_size < -1) {
    reject(where + ".group_size", "invalid value " + std::to_string(*args.group_size) +
                                      ": use a positive size for strategy group, -1 for channel");
  }
  if (!args.strategy && args.group_size && *args.group_size == 0) {
    reject(where + ".group_size", "0 is invalid: use a positive size for strategy group, -1 for channel");
  }
  const Strategy strategy = args.resolved_strategy();
  const bool positive_group = args.group_size && *args.group_size > 0;
  if (is_grouped(strategy) && !positive_group) {
    reject(where, "strategy " + to_string(strategy) + " needs a positive group_size");
  }
  if (positive_group && !is_grouped(strategy)) {
    reject(where,
           "group_size " + std::to_string(*args.group_size) + " needs strategy group, not " + to_string(strategy));
  }
  if (args.is_fp4()) {
    validate_fp4_layout(args, strategy, where);
  } else if (strategy == Strategy::TensorGroup) {
    reject(where + ".strategy", "tensor_group is NVFP4's strategy and needs FP4 values (type float, num_bits 4)");
  } else if (args.scale_dtype != ScaleDType::Native) {
    reject(where + ".scale_dtype", std::string("\"") + scale_dtype_name(args.scale_dtype) +
                                       "\" scales belong to the FP4 formats (NVFP4, MXFP4); " +
                                       std::to_string(args.num_bits) + "-bit " + to_string(args.type) +
                                       " quantization keeps its scales in the model dtype (scale_dtype null)");
  }
  if (args.local_dynamic && (!args.dynamic || strategy != Strategy::TensorGroup)) {
    reject(where + ".dynamic", "\"local\" needs strategy tensor_group (NVFP4 activations), not " + to_string(strategy));
  }
  if (strategy == Strategy::Block) {
    if (!args.block_structure) reject(where, "strategy block needs block_structure [rows, cols]");
    if (args.block_structure->size() != 2 || (*args.block_structure)[0] <= 0 || (*args.block_structure)[1] <= 0) {
      reject(where + ".block_structure", "expected two positive dimensions [rows, cols]");
    }
  } else if (args.block_structure) {
    reject(where, "block_structure needs strategy block, not " + to_string(strategy));
  }
  if (strategy == Strategy::Token && !args.dynamic) {
    reject(where, "strategy token is only possible with dynamic: true (static per-token scales cannot exist)");
  }
  if (args.dynamic && strategy != Strategy::Token && strategy != Strategy::Tensor && !is_grouped(strategy)) {
    reject(where,
           "dynamic quantization needs strategy token, tensor, group or tensor_group, not " + to_string(strategy));
  }
  if (strategy == Strategy::TensorGroup && args.dynamic && !args.local_dynamic) {
    reject(where + ".dynamic", "tensor_group activations are dynamic \"local\" (their global scale is calibrated), "
                               "not dynamic true");
  }
  if (args.actorder == ActOrder::Group && strategy != Strategy::Group) {
    reject(where + ".actorder", "\"group\" activation ordering needs strategy group, not " + to_string(strategy));
  }
  if (!args.actorder_literal.empty() && actorder_from_name(args.actorder_literal) != args.actorder) {
    reject(where + ".actorder", "literal \"" + args.actorder_literal + "\" contradicts the activation ordering set");
  }
  if (!args.observer_kwargs.is_object()) reject(where + ".observer_kwargs", "expected an object");
}

}  // namespace dcomp::quant
