#include "pipeline/finite_checks.hpp"

#include <set>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "kernels/quant/non_finite.hpp"
#include "kernels/io/layer_names.hpp"

namespace dcomp::pipeline {
namespace {

constexpr const char* kRefuseInput = "refusing to compress";
constexpr const char* kRefuseOutput = "refusing to write a checkpoint holding it";

// "model.layers.0.self_attn.q_proj" for one reader of an input, "... (and 2 more Linears
// reading the same input)" for several.
std::string readers_of(const lifecycle::InputStatistics& input, const std::string& key) {
  if (input.consumers.empty()) return key;
  std::string text = input.consumers.front();
  if (input.consumers.size() > 1) {
    text += " (and " + std::to_string(input.consumers.size() - 1) + " more Linear(s) reading the same input)";
  }
  return text;
}

// One list of per-sample minima or maxima of the keys or values.
void require_finite_ranges(const std::vector<float>& values, const std::string& what) {
  if (values.empty()) return;
  const at::Tensor view = at::from_blob(const_cast<float*>(values.data()), {static_cast<int64_t>(values.size())},
                                        at::TensorOptions().dtype(at::kFloat));  // [samples] fp32, borrowed
  quant::require_finite(view, what, std::string("the calibration activations overflow; ") + kRefuseInput);
}

}  // namespace

void require_finite_weights(const lifecycle::LayerWork& layer) {
  for (const auto& module : layer.linears) {
    quant::require_finite(module.weight, module.name + ": weight", kRefuseInput);
    quant::require_finite(module.bias, module.name + ": bias", kRefuseInput);
  }
  for (const auto& [name, weight] : layer.norm_weights) quant::require_finite(weight, name + ": weight", kRefuseInput);
  for (const auto& [name, tensor] : layer.parameters) {  // "model.layers.0.self_attn.q_norm: weight"
    const size_t dot = name.rfind('.');
    quant::require_finite(tensor, name.substr(0, dot) + ": " + name.substr(dot + 1), kRefuseInput);
  }
}

void require_finite_weights(const model::EmbeddingAndHeadWeights& weights, bool tied) {
  quant::require_finite(weights.embed_tokens, "model.embed_tokens: weight", kRefuseInput);
  quant::require_finite(weights.final_norm, "model.norm: weight", kRefuseInput);
  if (!tied) quant::require_finite(weights.lm_head, "lm_head: weight", kRefuseInput);
}

void require_finite_statistics(const lifecycle::LayerWork& layer) {
  const std::string consequence = std::string("the calibration activations overflow; ") + kRefuseInput;
  // In model order, so that the first input named is where the overflow starts.
  std::set<std::string> checked;
  for (const auto& module : layer.linears) {
    const auto found = layer.inputs.find(module.input);
    if (found == layer.inputs.end() || !checked.insert(module.input).second) continue;
    const lifecycle::InputStatistics& input = found->second;
    if (input.num_tokens == 0) continue;  // nothing observed: the ranges still hold their ±inf start
    const std::string readers = readers_of(input, module.input);
    quant::require_finite(input.channel_min, readers + ": the observed input minimum per channel", consequence);
    quant::require_finite(input.channel_max, readers + ": the observed input maximum per channel", consequence);
    quant::require_finite(input.channel_abs_sum, readers + ": the observed input magnitude per channel", consequence);
    quant::require_finite(input.hessian_sum, readers + ": the Hessian of the inputs", consequence);
  }
  if (!layer.layout) return;  // the subgraph holding lm_head observes no keys and values
  const auto& ranges = layer.key_value_ranges;
  const std::string attention = io::layer_module_name(layer.layer_index, layer.layout->attention_module);
  require_finite_ranges(ranges.key_min, attention + ": the observed key minimum per sample");
  require_finite_ranges(ranges.key_max, attention + ": the observed key maximum per sample");
  require_finite_ranges(ranges.value_min, attention + ": the observed value minimum per sample");
  require_finite_ranges(ranges.value_max, attention + ": the observed value maximum per sample");
}

void require_finite_scales(const lifecycle::LinearModule& module) {
  if (!module.compressed || !module.compressed->weight_args) return;
  const quant::CompressedWeight& weight = *module.compressed;
  quant::require_finite(weight.scale, module.name + ".weight_scale", kRefuseOutput);
  quant::require_finite(weight.global_scale, module.name + ".weight_global_scale", kRefuseOutput);
  quant::require_finite(weight.input_scale, module.name + ".input_scale", kRefuseOutput);
  quant::require_finite(weight.input_global_scale, module.name + ".input_global_scale", kRefuseOutput);
}

}  // namespace dcomp::pipeline
