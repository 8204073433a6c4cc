// AWQModifier: activation-aware weight scaling. For each mapping (a smooth layer and the
// balance Linears reading its output) of a decoder layer, a grid search picks per-channel
// scales s from the mean |activation| (and, with duo_scaling, the balance weights' normalized
// magnitudes) that minimize the error of the mapping's parent module when its balance weights
// are quantized as Q(W·s)/s; the balance weights are then multiplied by s and the smooth
// layer divided by it, before the quantizing modifier after it rounds them.
//
// As upstream, the modifier is a transform: a QuantizationModifier or GPTQModifier later in
// the recipe quantizes (and gives the search its schemes). The older form that gives
// AWQModifier a scheme of its own runs that scheme's round-to-nearest quantization itself.
// The statistics later modifiers read (Hessians, ranges) are rescaled to the smoothed inputs.
//
// Mappings (upstream's defaults for Llama, Qwen2/3, Mistral): input_layernorm → q/k/v (parent:
// the attention), v_proj → o_proj (parent o_proj; skipped under grouped-query attention, where
// their shapes differ), post_attention_layernorm → gate/up (parent: the MLP), up_proj →
// down_proj (parent down_proj).
//
// reference: Lin et al., "AWQ" (arXiv 2306.00978); llm-compressor
// src/llmcompressor/modifiers/transform/awq/{base,mappings}.py and modifiers/awq/__init__.py.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lifecycle/modifier.hpp"
#include "lifecycle/modifiers/awq_scales.hpp"
#include "lifecycle/modifiers/quantization_modifier.hpp"

namespace dcomp::lifecycle {

/// The largest n_grid accepted: the search runs one forward pass per grid point.
inline constexpr int kMaxGridPoints = 1000;

class AWQModifier : public Modifier {
 public:
  explicit AWQModifier(ModifierArgs& args);

  struct Mapping {
    std::string smooth;                // a norm or Linear of the layer (name or "re:" pattern)
    std::vector<std::string> balance;  // the Linears reading its output
    std::string location;              // "recipe.yaml:7:9" for a recipe's mapping; empty for the defaults
  };

 protected:
  bool on_initialize_plan(State& state, const Kwargs& kwargs, const std::shared_ptr<CompressionPlan>& plan) override;
  void on_event(State& state, const Event& event, const Kwargs& kwargs) override;
  bool on_finalize(State& state, const Kwargs& kwargs) override;
  nlohmann::json own_args() const override;

 private:
  /// At initialize: each recipe mapping selects a smooth layer and balance Linears, and in
  /// each decoder layer its balance Linears form one of the parents the search can replay.
  void check_mappings(const ModelHandle& model) const;
  void smooth_layer(LayerWork& layer);

  std::vector<Mapping> mappings_;
  bool explicit_mappings_ = false;
  DuoScaling duo_scaling_ = DuoScaling::On;
  int n_grid_ = 20;
  std::string location_;
  std::shared_ptr<const CompressionPlan> plan_;
  std::shared_ptr<QuantizationModifier> quantizer_;  // the older form: AWQModifier with a scheme
};

}  // namespace dcomp::lifecycle
