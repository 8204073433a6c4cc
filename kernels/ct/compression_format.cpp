// reference: compressed-tensors src/compressed_tensors/compressors/format.py and the
// can_compress methods of compressors/naive_quantized/base.py and pack_quantized/base.py.
#include "kernels/ct/compression_format.hpp"

#include "kernels/quant/element_formats.hpp"

namespace dcomp::ct {

std::string infer_module_format(const std::optional<quant::QuantizationArgs>& weights,
                                const std::optional<quant::QuantizationArgs>& input_activations) {
  if (!weights) return format::kDense;
  if (const quant::GroupScaleLayout* layout = quant::group_scale_layout(*weights)) return layout->compression_format;
  const quant::ElementFormatTraits& element = weights->traits();
  // (pack-quantized also excludes FP8 inputs, but any input quantization takes the format for
  // weights with quantized activations first.)
  if (input_activations) {
    if (element.with_activations_format != nullptr) return element.with_activations_format;
    return element.is_float ? format::kFloatQuantized : format::kIntQuantized;
  }
  if (element.weight_only_format != nullptr && element.takes_bits(weights->num_bits)) return element.weight_only_format;
  return format::kNaiveQuantized;
}

std::string module_format(const quant::QuantizationScheme& scheme) {
  if (scheme.format) return *scheme.format;
  return infer_module_format(scheme.weights, scheme.input_activations);
}

std::string model_format(const std::set<std::string>& module_formats) {
  std::set<std::string> quantized = module_formats;
  quantized.erase(format::kDense);
  if (quantized.empty()) return format::kDense;
  if (quantized.size() == 1) return *quantized.begin();
  return format::kMixedPrecision;
}

bool is_supported_format(const std::string& name) {
  if (name == format::kDense || name == format::kNaiveQuantized) return true;
  for (const quant::ElementFormatTraits& element : quant::kElementFormatTable) {
    for (const char* stored : {element.weight_only_format, element.with_activations_format}) {
      if (stored != nullptr && name == stored) return true;
    }
    for (int i = 0; i < element.group_layout_count; ++i) {
      if (name == element.group_layouts[i].compression_format) return true;
    }
  }
  return false;
}

}  // namespace dcomp::ct
