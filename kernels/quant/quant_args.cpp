// Quantization arguments: strategy inference, the value range of the codes and the names
// of the enum values (JSON layout: quant_args_json.cpp; checks: quant_args_validation.cpp;
// the preset schemes: preset_schemes.cpp).
//
// reference: compressed-tensors src/compressed_tensors/quantization/quant_args.py
// (QuantizationArgs.strategy inference in validate_model_after, calculate_range in
// quantization/utils/helpers.py).
#include "kernels/quant/quant_args.hpp"

#include "kernels/quant/element_formats.hpp"
#include "kernels/quant/quant_args_validation.hpp"

namespace dcomp::quant {

Strategy QuantizationArgs::resolved_strategy() const {
  if (strategy) return *strategy;
  if (!group_size) return Strategy::Tensor;
  if (*group_size > 0) return Strategy::Group;
  if (*group_size == -1) return Strategy::Channel;
  throw QuantConfigError("quantization args: group_size " + std::to_string(*group_size) +
                         " is invalid: use a positive size for strategy group, -1 for channel");
}

namespace {

// The traits of the arguments' element format; throws QuantConfigError for a width it does not take.
const ElementFormatTraits& checked_element_traits(const QuantizationArgs& args) {
  const ElementFormatTraits& traits = args.traits();
  if (!traits.takes_bits(args.num_bits)) {
    throw QuantConfigError("quantization args: " + element_widths(args.type) + ", got " +
                           std::to_string(args.num_bits));
  }
  return traits;
}

}  // namespace

double QuantizationArgs::q_min() const { return checked_element_traits(*this).q_min(num_bits); }

double QuantizationArgs::q_max() const { return checked_element_traits(*this).q_max(num_bits); }

void QuantizationArgs::validate() const { validate_quantization_args(*this, "quantization args"); }

std::string to_string(Strategy strategy) {
  switch (strategy) {
    case Strategy::Tensor: return "tensor";
    case Strategy::Channel: return "channel";
    case Strategy::Group: return "group";
    case Strategy::Block: return "block";
    case Strategy::Token: return "token";
    case Strategy::TensorGroup: return "tensor_group";
  }
  return "unknown";
}

std::string to_string(QuantType type) { return type == QuantType::Int ? "int" : "float"; }

const char* scale_dtype_name(ScaleDType dtype) {
  switch (dtype) {
    case ScaleDType::Fp8E4m3: return "torch.float8_e4m3fn";
    case ScaleDType::E8M0: return "torch.uint8";
    case ScaleDType::Native: break;
  }
  return nullptr;
}

ActOrder actorder_from_name(const std::string& name) {
  if (name == "static" || name == "weight") return ActOrder::Static;
  if (name == "group" || name == "dynamic") return ActOrder::Group;
  return ActOrder::None;
}

}  // namespace dcomp::quant
