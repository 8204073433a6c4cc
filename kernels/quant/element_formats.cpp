// Lookups in the element format table: the format of a type and width, the group layout of a
// set of quantization arguments or of a compressed-tensors format name, the ranges.
//
// reference: compressed-tensors quantization/utils/helpers.py (calculate_range),
// compressors/format.py; ggml/src/ggml.c (ggml_get_type_traits).
#include "kernels/quant/element_formats.hpp"

#include <cmath>
#include <string>

namespace dcomp::quant {

double ElementFormatTraits::q_max(int bits) const {
  if (is_float) return max_value;
  return std::ldexp(1.0, bits - 1) - 1.0;
}

double ElementFormatTraits::q_min(int bits) const { return -q_max(bits) - (is_float ? 0.0 : 1.0); }

ElementFormat element_format_of(QuantType type, int bits) {
  const ElementFormatTraits* first_of_type = nullptr;
  for (const ElementFormatTraits& row : kElementFormatTable) {
    if (row.type != type) continue;
    if (row.takes_bits(bits)) return row.format;
    if (first_of_type == nullptr) first_of_type = &row;
  }
  return first_of_type != nullptr ? first_of_type->format : ElementFormat::Int;
}

ElementFormat QuantizationArgs::element_format() const { return element_format_of(type, num_bits); }

const ElementFormatTraits& QuantizationArgs::traits() const { return element_format_traits(element_format()); }

const GroupScaleLayout* group_scale_layout(const QuantizationArgs& args) {
  const ElementFormatTraits& traits = args.traits();
  const Strategy strategy = args.resolved_strategy();
  for (int i = 0; i < traits.group_layout_count; ++i) {
    const GroupScaleLayout& layout = traits.group_layouts[i];
    if (layout.strategy == strategy && args.group_size == layout.group_size &&
        args.scale_dtype == layout.scale_dtype) {
      return &layout;
    }
  }
  return nullptr;
}

const GroupScaleLayout* group_scale_layout_of_format(const std::string& compression_format, ElementFormat* element) {
  for (const ElementFormatTraits& row : kElementFormatTable) {
    for (int i = 0; i < row.group_layout_count; ++i) {
      if (compression_format != row.group_layouts[i].compression_format) continue;
      if (element != nullptr) *element = row.format;
      return &row.group_layouts[i];
    }
  }
  return nullptr;
}

ScaleDType default_scale_dtype(const QuantizationArgs& args) {
  const ElementFormatTraits& traits = args.traits();
  const Strategy strategy = args.resolved_strategy();
  for (int i = 0; i < traits.group_layout_count; ++i) {
    const GroupScaleLayout& layout = traits.group_layouts[i];
    if (layout.strategy == strategy && args.group_size == layout.group_size) return layout.scale_dtype;
  }
  return ScaleDType::Native;
}

std::string describe_element_format(ElementFormat format) {
  const ElementFormatTraits& traits = element_format_traits(format);
  if (traits.encoding[0] == '\0') return traits.name;
  return std::string(traits.name) + " " + traits.encoding;
}

std::string element_widths(QuantType type) {
  std::string widths;
  int rows = 0;
  const ElementFormatTraits* only = nullptr;
  for (const ElementFormatTraits& row : kElementFormatTable) {
    if (row.type != type) continue;
    widths += (rows++ == 0 ? "" : " and ") + std::to_string(row.min_bits) + " bits (" +
              describe_element_format(row.format) + ")";
    only = &row;
  }
  const std::string kind = type == QuantType::Int ? "integer" : "float";
  if (rows == 1 && only->min_bits != only->max_bits) {
    return kind + " quantization needs " + std::to_string(only->min_bits) + ".." + std::to_string(only->max_bits) +
           " bits";
  }
  return kind + " quantization supports " + widths;
}

}  // namespace dcomp::quant
