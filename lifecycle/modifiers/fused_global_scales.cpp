// reference: llm-compressor src/llmcompressor/observers/helpers.py (fuse_weight_observers),
// observers/base.py (get_global_scale), compressed-tensors quantization/utils/helpers.py (generate_gparam).
#include "lifecycle/modifiers/fused_global_scales.hpp"

#include <algorithm>

#include "kernels/quant/observers.hpp"
#include "kernels/quant/qparams.hpp"
#include "lifecycle/errors.hpp"

namespace dcomp::lifecycle {
namespace {

// "model.layers.0.self_attn.q_proj" → ("model.layers.0.self_attn", "q_proj").
std::pair<std::string, std::string> split_name(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return {"", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

}  // namespace

const std::vector<std::vector<std::string>>& fused_linear_names() {
  static const std::vector<std::vector<std::string>> groups{
      {"gate_proj", "up_proj"}, {"q_proj", "k_proj", "v_proj"}, {"q_a_proj", "kv_a_proj_with_mqa"}, {"w1", "w3"}};
  return groups;
}

std::map<std::string, at::Tensor> fused_weight_global_scales(
    const LayerWork& layer, const std::vector<LinearModule*>& modules,
    const std::function<const quant::QuantizationArgs*(const LinearModule&)>& weight_args_of) {
  const auto is_tensor_group = [&](const LinearModule& module) {
    const quant::QuantizationArgs* args = weight_args_of(module);
    return args && args->resolved_strategy() == quant::Strategy::TensorGroup;
  };
  // The absmax of each tensor_group module's observed ranges.
  std::map<std::string, float> absmax;
  std::map<std::string, quant::FloatDType> model_dtype;  // each module's, which its global scale is computed in
  for (const LinearModule* module : modules) {
    if (!is_tensor_group(*module)) continue;
    const quant::QuantizationArgs& args = *weight_args_of(*module);
    absmax[module->name] = quant::range_absmax(quant::observe_weight_range(module->weight, args));
    model_dtype[module->name] = args.model_dtype;
  }
  std::map<std::string, float> shared = absmax;
  for (const auto& [name, value] : absmax) {
    const auto [parent, leaf] = split_name(name);
    for (const auto& group : fused_linear_names()) {
      if (std::find(group.begin(), group.end(), leaf) == group.end()) continue;
      float group_absmax = value;
      for (const auto& sibling_leaf : group) {
        const std::string sibling = parent.empty() ? sibling_leaf : parent + "." + sibling_leaf;
        if (sibling == name) continue;
        const LinearModule* member = layer.find(sibling);
        if (!member) continue;  // the model has no such sibling: nothing is fused with it
        const auto found = absmax.find(sibling);
        if (found == absmax.end()) {
          throw LifecycleError(name + " is quantized with tensor_group (NVFP4), but " + sibling +
                               ", which vLLM fuses with it, is not: fused modules must share one quantization "
                               "scheme (quantize both the same way, or ignore both)");
        }
        group_absmax = std::max(group_absmax, found->second);
      }
      shared[name] = group_absmax;
    }
  }
  std::map<std::string, at::Tensor> scales;
  for (const auto& [name, value] : shared) scales[name] = quant::global_scale_for_absmax(value, model_dtype.at(name));
  return scales;
}

}  // namespace dcomp::lifecycle
