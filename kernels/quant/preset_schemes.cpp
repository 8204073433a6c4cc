// The preset schemes (`scheme: W4A16` in a recipe, `--scheme` on the command line), in one table:
// a name, the weights' arguments and the input activations' arguments.
//
// reference: compressed-tensors src/compressed_tensors/quantization/quant_scheme.py
// (PRESET_SCHEMES, v0.18.0, where W8A16 is group-128).
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant {
namespace {

QuantizationArgs int_weights(int bits, std::optional<int> group_size, bool symmetric = true) {
  QuantizationArgs args;
  args.num_bits = bits;
  args.type = QuantType::Int;
  args.symmetric = symmetric;
  args.group_size = group_size;
  args.strategy = group_size ? Strategy::Group : Strategy::Channel;
  return args;
}

QuantizationArgs dynamic_token(QuantType type) {
  QuantizationArgs args;
  args.num_bits = 8;
  args.type = type;
  args.strategy = Strategy::Token;
  args.dynamic = true;
  return args;
}

QuantizationArgs fp4(Strategy strategy, int group_size, ScaleDType scale_dtype) {
  QuantizationArgs args;
  args.num_bits = 4;
  args.type = QuantType::Float;
  args.strategy = strategy;
  args.group_size = group_size;
  args.scale_dtype = scale_dtype;
  return args;
}

QuantizationArgs fp8(Strategy strategy) {
  QuantizationArgs args;
  args.num_bits = 8;
  args.type = QuantType::Float;
  args.strategy = strategy;
  return args;
}

// FP8 weights and activations per tensor, the activations' scale calibrated (static).
QuantizationArgs static_fp8_activations() {
  QuantizationArgs args = fp8(Strategy::Tensor);
  args.observer = "static_minmax";
  return args;
}

// DeepSeek's layout: weights in 128 x 128 blocks, activations dynamic in groups of 128.
QuantizationArgs fp8_blocks() {
  QuantizationArgs args = fp8(Strategy::Block);
  args.block_structure = std::vector<int>{128, 128};
  return args;
}

QuantizationArgs fp8_dynamic_groups() {
  QuantizationArgs args = fp8(Strategy::Group);
  args.group_size = 128;
  args.dynamic = true;
  return args;
}

// NVFP4 activations: a calibrated global scale, local scales per group of 16 computed at run time.
QuantizationArgs nvfp4_activations() {
  QuantizationArgs args = fp4(Strategy::TensorGroup, 16, ScaleDType::Fp8E4m3);
  args.dynamic = true;
  args.local_dynamic = true;
  args.observer = "static_minmax";
  return args;
}

QuantizationArgs mxfp4_activations() {
  QuantizationArgs args = fp4(Strategy::Group, 32, ScaleDType::E8M0);
  args.dynamic = true;
  return args;
}

struct Preset {
  const char* name;
  std::optional<QuantizationArgs> weights;
  std::optional<QuantizationArgs> input_activations;
};

const std::vector<Preset>& presets() {
  static const std::vector<Preset> table{
      {"UNQUANTIZED", std::nullopt, std::nullopt},
      {"W8A16", int_weights(8, 128), std::nullopt},
      {"W4A16", int_weights(4, 128), std::nullopt},
      {"W4A16_ASYM", int_weights(4, 128, /*symmetric=*/false), std::nullopt},
      {"W8A8", int_weights(8, std::nullopt), dynamic_token(QuantType::Int)},
      {"INT8", int_weights(8, std::nullopt), dynamic_token(QuantType::Int)},
      {"W4A8", int_weights(4, 128), dynamic_token(QuantType::Int)},
      {"W4AFP8", int_weights(4, 128), dynamic_token(QuantType::Float)},
      {"FP8", fp8(Strategy::Tensor), static_fp8_activations()},
      {"FP8_DYNAMIC", fp8(Strategy::Channel), dynamic_token(QuantType::Float)},
      {"FP8_BLOCK", fp8_blocks(), fp8_dynamic_groups()},
      {"NVFP4A16", fp4(Strategy::TensorGroup, 16, ScaleDType::Fp8E4m3), std::nullopt},
      {"NVFP4", fp4(Strategy::TensorGroup, 16, ScaleDType::Fp8E4m3), nvfp4_activations()},
      {"MXFP4A16", fp4(Strategy::Group, 32, ScaleDType::E8M0), std::nullopt},
      {"MXFP4", fp4(Strategy::Group, 32, ScaleDType::E8M0), mxfp4_activations()},
  };
  return table;
}

}  // namespace

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const Preset& preset : presets()) names.emplace_back(preset.name);
  return names;
}

QuantizationScheme preset_scheme(const std::string& name, const std::vector<std::string>& targets) {
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  const auto found = std::find_if(presets().begin(), presets().end(), [&](const Preset& p) { return upper == p.name; });
  if (found == presets().end()) {
    std::string known;
    for (const auto& preset : preset_names()) known += (known.empty() ? "" : ", ") + preset;
    throw QuantConfigError("unknown preset scheme \"" + name + "\" (known: " + known + ")");
  }
  QuantizationScheme scheme;
  scheme.targets = targets;
  scheme.weights = found->weights;
  scheme.input_activations = found->input_activations;
  // The observer each argument set resolves to in compressed-tensors.
  for (auto* args : {&scheme.weights, &scheme.input_activations}) {
    if (*args && !(*args)->dynamic && !(*args)->observer) (*args)->observer = "memoryless_minmax";
  }
  return scheme;
}

}  // namespace dcomp::quant
