// Consistency checks of quantization arguments: bit widths per element format, group sizes per
// strategy, the group-scaled layouts of the element formats (NVFP4, MXFP4: element_formats.hpp),
// dynamic and locally dynamic activations, block structure and activation ordering.
//
// reference: compressed-tensors src/compressed_tensors/quantization/quant_args.py
// (QuantizationArgs validators, model_validator "validate_model_after").
#include "kernels/quant/quant_args_validation.hpp"

#include "kernels/quant/element_formats.hpp"

namespace dcomp::quant {
namespace {

[[noreturn]] void reject(const std::string& where, const std::string& problem) {
  throw QuantConfigError(where + ": " + problem);
}

// "the NVFP4 layout (strategy tensor_group, group_size 16, scale_dtype torch.float8_e4m3fn)".
std::string describe_layout(const GroupScaleLayout& layout) {
  return std::string("the ") + layout.name + " layout (strategy " + to_string(layout.strategy) + ", group_size " +
         std::to_string(layout.group_size) + ", scale_dtype " + scale_dtype_name(layout.scale_dtype) + ")";
}

// The layout names of one element format ("NVFP4 or MXFP4") or of all ("NVFP4, MXFP4").
std::string layout_names(const ElementFormatTraits* only, const char* separator) {
  std::string names;
  for (const ElementFormatTraits& row : kElementFormatTable) {
    if (only != nullptr && only != &row) continue;
    for (int i = 0; i < row.group_layout_count; ++i) {
      names += (names.empty() ? "" : separator) + std::string(row.group_layouts[i].name);
    }
  }
  return names;
}

// The element formats that have group layouts, e.g. "FP4".
std::string group_scaled_element_names() {
  std::string names;
  for (const ElementFormatTraits& row : kElementFormatTable) {
    if (row.group_layout_count > 0) names += (names.empty() ? "" : "/") + std::string(row.name);
  }
  return names;
}

// A layout with scales of their own dtype (e.g. NVFP4: tensor_group, groups of 16, FP8 scales;
// MXFP4: group, groups of 32, E8M0 scales) must be one of the element format's group layouts,
// and symmetric: the group-scaled formats store no zero points.
void validate_group_scale_layout(const QuantizationArgs& args, const ElementFormatTraits& element,
                                 Strategy strategy, const std::string& where) {
  const GroupScaleLayout* layout = group_scale_layout(args);
  if (!args.symmetric && (layout != nullptr || !element.native_scales)) {
    reject(where + ".symmetric", std::string(element.name) + " (" + element.encoding +
                                     ") quantization is symmetric only: asymmetric zero points cannot be stored in "
                                     "the " + layout_names(&element, " or ") + " formats");
  }
  if (layout != nullptr) return;
  if (!element.native_scales) {
    std::string layouts;
    for (int i = 0; i < element.group_layout_count; ++i) {
      layouts += (i == 0 ? "" : " or ") + describe_layout(element.group_layouts[i]);
    }
    reject(where, std::string(element.name) + " needs " + layouts + "; got strategy " + to_string(strategy) +
                      ", group_size " + (args.group_size ? std::to_string(*args.group_size) : std::string("null")) +
                      ", scale_dtype " +
                      (scale_dtype_name(args.scale_dtype) ? scale_dtype_name(args.scale_dtype) : "null"));
  }
  if (strategy == Strategy::TensorGroup) {
    for (const ElementFormatTraits& row : kElementFormatTable) {
      for (int i = 0; i < row.group_layout_count; ++i) {
        if (row.group_layouts[i].strategy != Strategy::TensorGroup) continue;
        reject(where + ".strategy", std::string("tensor_group is ") + row.group_layouts[i].name +
                                        "'s strategy and needs " + row.name + " values (type " + to_string(row.type) +
                                        ", num_bits " + std::to_string(row.min_bits) + ")");
      }
    }
    reject(where + ".strategy", "tensor_group needs a format with a global scale");
  }
  reject(where + ".scale_dtype", std::string("\"") + scale_dtype_name(args.scale_dtype) + "\" scales belong to the " +
                                     group_scaled_element_names() + " formats (" + layout_names(nullptr, ", ") +
                                     "); " + std::to_string(args.num_bits) + "-bit " + to_string(args.type) +
                                     " quantization keeps its scales in the model dtype (scale_dtype null)");
}

}  // namespace

void validate_quantization_args(const QuantizationArgs& args, const std::string& where) {
  const ElementFormatTraits& element = args.traits();
  if (!element.takes_bits(args.num_bits)) {
    reject(where + ".num_bits", element_widths(args.type) + ", got " + std::to_string(args.num_bits));
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
  if (!element.native_scales || args.scale_dtype != ScaleDType::Native || strategy == Strategy::TensorGroup) {
    validate_group_scale_layout(args, element, strategy, where);
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
