// ConstantPruningModifier: keeps the zeros a model already has. Each targeted Linear's
// existing zeros become its sparsity mask, which a quantization modifier later in the
// recipe (GPTQModifier, QuantizationModifier) keeps, as it keeps SparseGPT's; without
// one the weights are written unchanged.
// reference: llm-compressor src/llmcompressor/modifiers/pruning/constant/base.py
// (the mask is the parameter's nonzeros; targets name parameters, "re:.*q_proj.weight",
// or "__ALL_PRUNABLE__" / "__ALL__")
#pragma once

#include <set>
#include <string>
#include <vector>

#include "lifecycle/modifier.hpp"

namespace dcomp::lifecycle {

class ConstantPruningModifier : public Modifier {
 public:
  explicit ConstantPruningModifier(ModifierArgs& args);

 protected:
  bool on_initialize_plan(State& state, const Kwargs& kwargs, const std::shared_ptr<CompressionPlan>& plan) override;
  void on_layer(State& state, const Event& event, LayerWork& layer) override;
  bool on_finalize(State& state, const Kwargs& kwargs) override;
  nlohmann::json own_args() const override;

 private:
  /// The Linear `name` is targeted (through its name, its weight's name or "__ALL_PRUNABLE__").
  bool targets_linear(const std::string& name) const;

  std::vector<std::string> targets_;
  std::set<std::string> pending_;
  bool model_known_ = false;
};

}  // namespace dcomp::lifecycle
