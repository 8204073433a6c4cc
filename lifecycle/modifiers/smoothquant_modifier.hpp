// SmoothQuantModifier: moves activation outliers into the weights. For each
// mapping (balance Linears ← smooth norm), per-channel scales from the norm
// output's range and the balance weights' columns are folded into the norm
// (divided) and the weights (multiplied). The collected input statistics are
// transformed with the same scales, so later modifiers of the recipe (GPTQ)
// see exactly the statistics of the smoothed layer without a second pass.
// reference: llm-compressor src/llmcompressor/modifiers/transform/smoothquant/base.py;
//            Xiao et al., "SmoothQuant", arXiv:2211.10438
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lifecycle/modifier.hpp"

namespace dcomp::lifecycle {

class SmoothQuantModifier : public Modifier {
 public:
  explicit SmoothQuantModifier(ModifierArgs& args);

  struct Mapping {
    std::vector<std::string> balance;  // Linear targets (regexes or names)
    std::string smooth;                // the norm before them
    std::string location;              // "recipe.yaml:7:9" for a recipe's mapping; empty for the defaults
  };

 protected:
  bool on_initialize_plan(State& state, const Kwargs& kwargs, const std::shared_ptr<CompressionPlan>& plan) override;
  void on_layer(State& state, const Event& event, LayerWork& layer) override;
  nlohmann::json own_args() const override;

 private:
  double smoothing_strength_ = 0.5;
  std::vector<Mapping> mappings_;
  std::vector<std::string> ignore_;
  bool explicit_mappings_ = false;
};

}  // namespace dcomp::lifecycle
