// reference: llm-compressor src/llmcompressor/observers/helpers.py (fuse_weight_observers),
// observers/base.py (get_global_scale), compressed-tensors quantization/utils/helpers.py (generate_gparam).
#include "lifecycle/modifiers/fused_global_scales.hpp"

#include <algorithm>

#include "kernels/quant/observers.hpp"
#include "kernels/quant/qparams.hpp"
#include "kernels/io/layer_names.hpp"
#include "lifecycle/errors.hpp"

namespace dcomp::lifecycle {
namespace {

// The full names of the Linears vLLM fuses with `name` (LayerLayout::fused_groups), itself
// included; empty outside the decoder layers (the subgraph holding lm_head has no layout).
std::vector<std::string> fused_siblings(const LayerWork& layer, const std::string& name) {
  if (!layer.layout) return {};
  const std::string prefix = io::layer_prefix(layer.layer_index);
  if (name.compare(0, prefix.size(), prefix) != 0) return {};
  std::vector<std::string> group = layer.layout->fused_with(name.substr(prefix.size()));
  for (auto& member : group) member = prefix + member;
  return group;
}

}  // namespace

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
    if (const std::vector<std::string> group = fused_siblings(layer, name); !group.empty()) {
      float group_absmax = value;
      for (const auto& sibling : group) {
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
