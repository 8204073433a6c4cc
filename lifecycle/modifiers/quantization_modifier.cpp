// reference: llm-compressor src/llmcompressor/modifiers/quantization/quantization/base.py
#include "lifecycle/modifiers/quantization_modifier.hpp"

#include "lifecycle/modifiers/weight_quantization.hpp"

namespace dcomp::lifecycle {

void QuantizationModifier::compress_layer(LayerWork& layer, const std::vector<LinearModule*>& modules) {
  // RTN is cheap and deterministic: every rank computes every module itself.
  for (LinearModule* module : modules) {
    const auto scheme = scheme_of(*module);
    const bool pruned = module->compressed && module->compressed->sparsity_mask.defined();
    quant::CompressedWeight result = quantize_round_to_nearest(module->weight, *scheme.weights);
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
