// The registry of every modifier dcomp implements, by recipe class name.
#include "lifecycle/modifier_registry.hpp"
#include "lifecycle/modifiers/constant_pruning_modifier.hpp"
#include "lifecycle/modifiers/gptq_modifier.hpp"
#include "lifecycle/modifiers/quantization_modifier.hpp"
#include "lifecycle/modifiers/smoothquant_modifier.hpp"
#include "lifecycle/modifiers/sparsegpt_modifier.hpp"

namespace dcomp::lifecycle {

const ModifierRegistry& ModifierRegistry::builtin() {
  static const ModifierRegistry registry = [] {
    ModifierRegistry r;
    r.add("QuantizationModifier", [](ModifierArgs& args) { return std::make_shared<QuantizationModifier>(args); });
    r.add("GPTQModifier", [](ModifierArgs& args) { return std::make_shared<GPTQModifier>(args); });
    r.add("SparseGPTModifier", [](ModifierArgs& args) { return std::make_shared<SparseGPTModifier>(args); });
    r.add("ConstantPruningModifier",
          [](ModifierArgs& args) { return std::make_shared<ConstantPruningModifier>(args); });
    r.add("SmoothQuantModifier", [](ModifierArgs& args) { return std::make_shared<SmoothQuantModifier>(args); });
    return r;
  }();
  return registry;
}

}  // namespace dcomp::lifecycle
