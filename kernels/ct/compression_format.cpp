// reference: compressed-tensors src/compressed_tensors/compressors/format.py and the
// can_compress methods of compressors/naive_quantized/base.py and pack_quantized/base.py.
#include "kernels/ct/compression_format.hpp"

namespace dcomp::ct {

std::string infer_module_format(const std::optional<quant::QuantizationArgs>& weights,
                                const std::optional<quant::QuantizationArgs>& input_activations) {
  if (!weights) return format::kDense;
  if (weights->is_fp4() && weights->group_size == 32) return format::kMxfp4PackQuantized;
  if (weights->is_fp4() && weights->group_size == 16) return format::kNvfp4PackQuantized;
  const bool int_weights = weights->type == quant::QuantType::Int;
  if (int_weights && input_activations) return format::kIntQuantized;
  // (pack-quantized also excludes FP8 inputs, but any input quantization matched above.)
  if (int_weights && weights->num_bits >= 1 && weights->num_bits <= 8) return format::kPackQuantized;
  if (!int_weights && input_activations) return format::kFloatQuantized;
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
  return name == format::kDense || name == format::kPackQuantized || name == format::kIntQuantized ||
         name == format::kFloatQuantized || name == format::kNaiveQuantized || name == format::kNvfp4PackQuantized ||
         name == format::kMxfp4PackQuantized;
}

}  // namespace dcomp::ct
