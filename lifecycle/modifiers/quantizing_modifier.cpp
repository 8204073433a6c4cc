#include "lifecycle/modifiers/quantizing_modifier.hpp"

#include "lifecycle/modifiers/fused_scheme_check.hpp"
#include "lifecycle/modifiers/kv_cache_scales.hpp"

#include "lifecycle/completed_modules.hpp"
#include "lifecycle/enclosing_modules.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/modifiers/weight_quantization.hpp"
#include "kernels/io/layer_names.hpp"

namespace dcomp::lifecycle {

QuantizingModifier::QuantizingModifier(std::string class_name, ModifierArgs& args) : Modifier(std::move(class_name)) {
  mixin_.read_args(args);
}

bool QuantizingModifier::on_initialize_plan(State& state, const Kwargs&, const std::shared_ptr<CompressionPlan>& plan) {
  mixin_.resolve(default_actorder(), class_name());
  if (plan) {
    plan_ = plan;
    quantizer_number_ = plan->quantizing_modifiers++;
    if (!mixin_.has_config() && !plan->quantization_groups.empty()) mixin_.adopt(*plan);
  }
  if (!mixin_.has_config() && !mixin_.adopted()) {
    throw RecipeError(class_name() + ": has no quantization scheme: give it 'scheme' or 'config_groups', or place "
                      "it after a QuantizationModifier whose schemes it then applies");
  }
  if (state.model) {
    model_known_ = true;
    auto modules = mixin_.quantized_modules(*state.model, class_name());
    if (modules.empty() && !mixin_.groups().empty()) {
      throw RecipeError(mixin_.location() + ": " + class_name() + ": its targets match no module of the " + state.model->architecture() +
                        " model (targets are exact names, 're:' regular expressions or class names such as Linear)");
    }
    refuse_mixed_fused_schemes(*state.model, [&](const ModuleInfo& module) { return mixin_.scheme_for(module); },
                               mixin_.location() + ": " + class_name());
    for (const auto& module : modules) {
      refuse_unless_compressible(mixin_.location() + ": " + class_name(), module);  // not found uncompressed at finalize
      pending_.insert(module.name);
      if (plan) {
        plan->weight_quantizer[module.name] = quantizer_number_;
        if (module.name == kLmHead) plan->compresses_lm_head = true;
      }
    }
  }
  if (plan) {
    if (!mixin_.adopted()) mixin_.declare(*plan, state.model.get());  // adopted groups are declared already
    if (needs_hessians()) plan->needs_hessians = true;
    for (const auto& group : mixin_.groups()) {
      if (needs_static_input_scale(group.second)) plan->needs_channel_ranges = true;
    }
  }
  return true;
}

quant::QuantizationScheme QuantizingModifier::scheme_of(const LinearModule& module) const {
  ModuleInfo info = linear_module_info(module);
  auto scheme = mixin_.scheme_for(info);
  if (!scheme) throw LifecycleError(class_name() + ": " + module.name + " is not a target");
  if (scheme->weights) scheme->weights->model_dtype = layer_dtype_;
  if (scheme->input_activations) scheme->input_activations->model_dtype = layer_dtype_;
  return *scheme;
}

void QuantizingModifier::on_layer(State&, const Event&, LayerWork& layer) {
  layer_dtype_ = quant::float_dtype_of(layer.model_dtype);
  calibrate_kv_cache(layer);
  std::vector<LinearModule*> targets;
  for (auto& module : layer.linears) {
    ModuleInfo info = linear_module_info(module);
    auto scheme = mixin_.scheme_for(info);
    if (!scheme || !scheme->weights) continue;
    if (quantizes(module.name)) {
      targets.push_back(&module);
    } else {
      pending_.erase(module.name);  // a later modifier quantizes it, and checks that at its finalize
    }
  }
  if (targets.empty()) return;
  compress_layer(layer, targets);
  nlohmann::json compressed = nlohmann::json::array();
  for (auto* module : targets) {
    pending_.erase(module->name);
    compressed.push_back(module->name);
  }
  report("layer", layer.layer_index);
  report("compressed", compressed);
}

void QuantizingModifier::calibrate_kv_cache(LayerWork& layer) {
  const auto& scheme = mixin_.kv_cache_scheme();
  if (!scheme) return;
  // Decoder layers with key and value projections only: the subgraph holding lm_head has no layout.
  if (!layer.layout || !layer.layout->has(model::LinearRole::Key)) return;
  const std::string attention = io::layer_module_name(layer.layer_index, layer.layout->attention_module);
  quant::QuantizationArgs args = *scheme;
  args.model_dtype = layer_dtype_;  // k_scale / v_scale are stored in the model dtype, computed in it
  auto [k_scale, v_scale] = kv_cache_scales(layer.key_value_ranges, args, attention);
  layer.attention_scales[attention + ".k_scale"] = k_scale;
  layer.attention_scales[attention + ".v_scale"] = v_scale;
  report("k_scale", k_scale.item<double>());
  report("v_scale", v_scale.item<double>());
}

bool QuantizingModifier::quantizes(const std::string& name) const {
  if (!plan_) return true;
  auto owner = plan_->weight_quantizer.find(name);
  return owner == plan_->weight_quantizer.end() || owner->second == quantizer_number_;
}

bool QuantizingModifier::on_finalize(State&, const Kwargs& kwargs) {
  if (model_known_ && started()) require_all_reached(pending_, kwargs, class_name(), "compress");
  return true;
}

}  // namespace dcomp::lifecycle
