// The registry of every modifier dcomp implements, by recipe class name, and of the
// llm-compressor modifiers it does not, with the reason a recipe naming one gets.
#include "lifecycle/modifier_registry.hpp"
#include "lifecycle/modifiers/awq_modifier.hpp"
#include "lifecycle/modifiers/constant_pruning_modifier.hpp"
#include "lifecycle/modifiers/gptq_modifier.hpp"
#include "lifecycle/modifiers/quantization_modifier.hpp"
#include "lifecycle/modifiers/smoothquant_modifier.hpp"
#include "lifecycle/modifiers/sparsegpt_modifier.hpp"

namespace dcomp::lifecycle {

const ModifierRegistry& ModifierRegistry::builtin() {
  static const ModifierRegistry registry = [] {
    ModifierRegistry r;
    r.add("QuantizationModifier", [](ModifierArgs& args) { return std::make_shared<QuantizationModifier>(args); },
          {"round-to-nearest weight quantization, static or dynamic activation scales", "{scheme: W4A16}"});
    r.add("GPTQModifier", [](ModifierArgs& args) { return std::make_shared<GPTQModifier>(args); },
          {"GPTQ weight quantization from calibration Hessians; without a scheme of its own it solves the "
           "schemes a QuantizationModifier before it declared",
           "{scheme: W4A16}"});
    r.add("SparseGPTModifier", [](ModifierArgs& args) { return std::make_shared<SparseGPTModifier>(args); },
          {"SparseGPT pruning, unstructured or N:M", "{sparsity: 0.5}"});
    r.add("ConstantPruningModifier",
          [](ModifierArgs& args) { return std::make_shared<ConstantPruningModifier>(args); },
          {"keeps a pruned model's zeros through later quantization", "{targets: __ALL_PRUNABLE__}"});
    r.add("SmoothQuantModifier", [](ModifierArgs& args) { return std::make_shared<SmoothQuantModifier>(args); },
          {"moves activation outliers into the weights before quantization", "{}"});
    r.add("AWQModifier", [](ModifierArgs& args) { return std::make_shared<AWQModifier>(args); },
          {"activation-aware weight scaling (a grid search over per-channel scales) before the quantizing "
           "modifier after it; with a scheme of its own it also rounds to nearest",
           "{duo_scaling: true}"});
    r.add_unsupported("AutoRoundModifier", "sign-gradient rounding optimization is not implemented");
    r.add_unsupported("WandaPruningModifier", "Wanda pruning is not implemented; SparseGPTModifier prunes instead");
    r.add_unsupported("MagnitudePruningModifier", "gradual magnitude pruning belongs to training, not one-shot runs");
    r.add_unsupported("LogarithmicEqualizationModifier", "not implemented; SmoothQuantModifier smooths instead");
    r.add_unsupported("QuIPModifier", "transforms (Hadamard rotations) are not implemented");
    r.add_unsupported("SpinQuantModifier", "transforms (rotations) are not implemented");
    return r;
  }();
  return registry;
}

}  // namespace dcomp::lifecycle
