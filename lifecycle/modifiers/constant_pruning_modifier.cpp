// reference: llm-compressor src/llmcompressor/modifiers/pruning/constant/base.py
#include "lifecycle/modifiers/constant_pruning_modifier.hpp"

#include <algorithm>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "lifecycle/completed_modules.hpp"
#include "lifecycle/enclosing_modules.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/layer_work.hpp"
#include "lifecycle/modifier_args.hpp"
#include "lifecycle/target_match.hpp"

namespace dcomp::lifecycle {

ConstantPruningModifier::ConstantPruningModifier(ModifierArgs& args) : Modifier("ConstantPruningModifier") {
  auto targets = args.string_list("targets");
  if (!targets || targets->empty()) {
    args.fail("targets", "is required: the weights whose zeros are kept (e.g. [\"re:.*q_proj.weight\"] or "
                         "__ALL_PRUNABLE__)");
  }
  targets_ = *targets;
}

nlohmann::json ConstantPruningModifier::own_args() const { return {{"targets", targets_}}; }

bool ConstantPruningModifier::targets_linear(const std::string& name) const {
  for (const std::string& target : targets_) {
    if (target == "__ALL_PRUNABLE__" || target == "__ALL__") return true;
    if (target_matches(ModuleInfo{name, {"Linear"}, 0, 0}, target)) return true;
    if (target_matches(ModuleInfo{name + ".weight", {}, 0, 0}, target)) return true;
  }
  return false;
}

bool ConstantPruningModifier::on_initialize_plan(State& state, const Kwargs&,
                                                 const std::shared_ptr<CompressionPlan>& plan) {
  if (!state.model) return true;
  model_known_ = true;
  for (const auto& module : state.model->modules()) {
    const bool linear =
        std::find(module.class_names.begin(), module.class_names.end(), "Linear") != module.class_names.end();
    if (!linear || !targets_linear(module.name)) continue;
    refuse_unless_compressible("ConstantPruningModifier", module);
    pending_.insert(module.name);
    if (module.name == kLmHead && plan) plan->compresses_lm_head = true;
  }
  if (pending_.empty()) {
    throw RecipeError("ConstantPruningModifier: its targets " + nlohmann::json(targets_).dump() +
                      " match no Linear weight of the model");
  }
  return true;
}

void ConstantPruningModifier::on_layer(State&, const Event&, LayerWork& layer) {
  for (LinearModule& module : layer.linears) {
    if (!targets_linear(module.name)) continue;
    pending_.erase(module.name);
    if (module.compressed) continue;  // pruned earlier in this recipe: that mask stands
    quant::CompressedWeight kept;
    kept.sparsity_mask = module.weight != 0;  // [out, in] bool
    kept.sparsity_structure = "unstructured";
    kept.effective_weight = module.weight;
    spdlog::debug("{}: keeping {:.4g} % zeros", module.name,
                  100.0 * (1.0 - kept.sparsity_mask.to(at::kDouble).mean().item<double>()));
    module.compressed = std::move(kept);
  }
}

bool ConstantPruningModifier::on_finalize(State&, const Kwargs& kwargs) {
  if (model_known_ && started()) require_all_reached(pending_, kwargs, "ConstantPruningModifier", "keep the zeros of");
  return true;
}

}  // namespace dcomp::lifecycle
