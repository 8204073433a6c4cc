// reference: llm-compressor src/llmcompressor/modifiers/quantization/quantization/base.py
#include "lifecycle/modifiers/quantization_modifier.hpp"

#include "lifecycle/modifiers/fused_global_scales.hpp"
#include "lifecycle/modifiers/weight_quantization.hpp"

namespace dcomp::lifecycle {

void QuantizationModifier::compress_layer(LayerWork& layer, const std::vector<LinearModule*>& modules) {
  // RTN is cheap and deterministic: every rank computes every module itself.
  std::map<std::string, quant::QuantizationScheme> schemes;
  for (LinearModule* module : modules) schemes.emplace(module->name, scheme_of(*module));
  const auto global_scales = fused_weight_global_scales(layer, modules, [&](const LinearModule& module) {
    const auto found = schemes.find(module.name);
    return found == schemes.end() || !found->second.weights ? nullptr : &*found->second.weights;
  });
  for (LinearModule* module : modules) {
    const auto& scheme = schemes.at(module->name);
    const bool pruned = module->compressed && module->compressed->sparsity_mask.defined();
    const auto global = global_scales.find(module->name);
    quant::CompressedWeight result = quantize_round_to_nearest(
        module->weight, *scheme.weights, global == global_scales.end() ? at::Tensor() : global->second);
    if (pruned) {
      result.sparsity_mask = module->compressed->sparsity_mask;
      result.sparsity_structure = module->compressed->sparsity_structure;
      apply_sparsity_mask(result);
    }
    auto input = layer.inputs.find(module->input);
    attach_input_quantization(result, scheme, input == layer.inputs.end() ? nullptr : &input->second, module->name);
    module->weight = result.effective_weight;
    module->compressed = std::move(result);
  }
}

}  // namespace dcomp::lifecycle
