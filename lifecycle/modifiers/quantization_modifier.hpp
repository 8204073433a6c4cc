// QuantizationModifier: round-to-nearest weight quantization (minmax or mse
// observers) and static or dynamic activation quantization, per config group.
// reference: llm-compressor src/llmcompressor/modifiers/quantization/quantization/base.py
#pragma once

#include "lifecycle/modifiers/quantizing_modifier.hpp"

namespace dcomp::lifecycle {

class QuantizationModifier : public QuantizingModifier {
 public:
  explicit QuantizationModifier(ModifierArgs& args) : QuantizingModifier("QuantizationModifier", args) {}

 protected:
  void compress_layer(LayerWork& layer, const std::vector<LinearModule*>& modules) override;
};

}  // namespace dcomp::lifecycle
