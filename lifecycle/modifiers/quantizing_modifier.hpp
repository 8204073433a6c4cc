// Common base of QuantizationModifier and GPTQModifier: reads the quantization
// arguments, declares the config groups, finds this layer's target modules and
// checks at finalize that every targeted module was compressed.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "lifecycle/layer_work.hpp"
#include "lifecycle/modifier.hpp"
#include "lifecycle/modifiers/quantization_mixin.hpp"

namespace dcomp::lifecycle {

class QuantizingModifier : public Modifier {
 public:
  QuantizingModifier(std::string class_name, ModifierArgs& args);
  const QuantizationMixin& mixin() const { return mixin_; }

 protected:
  /// Default actorder filled into weight args (GPTQ: static); nullopt for RTN.
  virtual std::optional<quant::ActOrder> default_actorder() const { return std::nullopt; }
  /// Whether this modifier needs Hessians collected.
  virtual bool needs_hessians() const { return false; }
  /// Compresses the given modules of one layer (all are targets of this modifier).
  virtual void compress_layer(LayerWork& layer, const std::vector<LinearModule*>& modules) = 0;

  bool on_initialize_plan(State& state, const Kwargs& kwargs, const std::shared_ptr<CompressionPlan>& plan) override;
  void on_layer(State& state, const Event& event, LayerWork& layer) override;
  bool on_finalize(State& state, const Kwargs& kwargs) override;
  nlohmann::json own_args() const override { return mixin_.serialize(); }

  /// The scheme of a module (it is a target), its weight and input args set to the dtype of
  /// the model of the layer being compressed.
  quant::QuantizationScheme scheme_of(const LinearModule& module) const;

 private:
  /// With a kv_cache_scheme: the layer's k_scale and v_scale from its key/value ranges.
  void calibrate_kv_cache(LayerWork& layer);
  /// Whether this modifier quantizes `name`'s weights (no later modifier took it over).
  bool quantizes(const std::string& name) const;

  QuantizationMixin mixin_;
  std::shared_ptr<const CompressionPlan> plan_;  // null when initialized without one
  int quantizer_number_ = -1;                    // this modifier's key in plan_->weight_quantizer
  std::set<std::string> pending_;   // targeted modules not yet compressed
  bool model_known_ = false;
  quant::FloatDType layer_dtype_ = quant::FloatDType::F32;  // of the layer on_layer compresses
};

}  // namespace dcomp::lifecycle
