// reference: llm-compressor modifiers/pruning/sparsegpt/{base,sgpt_sparsify}.py
#include "lifecycle/modifiers/sparsegpt_modifier.hpp"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "kernels/quant/sparsegpt.hpp"
#include "lifecycle/completed_modules.hpp"
#include "lifecycle/enclosing_modules.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/layer_work.hpp"
#include "lifecycle/modifier_args.hpp"
#include "lifecycle/modifiers/distributed_solve.hpp"
#include "lifecycle/modifiers/solve_stacks.hpp"
#include "lifecycle/target_match.hpp"

namespace dcomp::lifecycle {

SparseGPTModifier::SparseGPTModifier(ModifierArgs& args) : Modifier("SparseGPTModifier") {
  if (!args.has("sparsity")) args.fail("", "needs 'sparsity' (the fraction of weights to prune, e.g. 0.5)");
  sparsity_ = args.get<double>("sparsity", 0.5);
  if (!(sparsity_ >= 0.0 && sparsity_ < 1.0)) args.fail("sparsity", "must be in [0, 1)");
  mask_structure_ = args.get<std::string>("mask_structure", "0:0");
  if (mask_structure_ == "unstructured") mask_structure_ = "0:0";
  auto colon = mask_structure_.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    prune_n_ = std::stoi(mask_structure_.substr(0, colon));
    prune_m_ = std::stoi(mask_structure_.substr(colon + 1));
  } catch (const std::exception&) {
    args.fail("mask_structure", "must be 'N:M' (e.g. '2:4') or '0:0' for unstructured, not '" + mask_structure_ + "'");
  }
  if (prune_n_ < 0 || prune_m_ < 0 || (prune_m_ > 0 && prune_n_ >= prune_m_) || (prune_m_ == 0 && prune_n_ != 0)) {
    args.fail("mask_structure", "'" + mask_structure_ + "' is not a valid N:M structure");
  }
  if (prune_m_ > 0) sparsity_ = static_cast<double>(prune_n_) / prune_m_;
  block_size_ = args.get<int64_t>("block_size", 128);
  if (block_size_ <= 0) args.fail("block_size", "must be positive");
  dampening_frac_ = args.get<double>("dampening_frac", 0.01);
  if (!(dampening_frac_ >= 0.0 && dampening_frac_ < 1.0)) {
    args.fail("dampening_frac", "must be in [0, 1) (the fraction of the Hessian's mean diagonal added to it; "
                                "llm-compressor's default is 0.01), got " + std::to_string(dampening_frac_));
  }
  if (auto targets = args.string_list("targets")) targets_ = *targets;
  if (auto ignore = args.string_list("ignore")) ignore_ = *ignore;
  if (auto sequential = args.string_list("sequential_targets")) sequential_targets_ = *sequential;
  args.refuse("sparsity_profile", "(OWL, per-layer sparsities) is not supported by dcomp");
  for (const char* unused : {"owl_m", "owl_lmbda"}) {
    args.refuse(unused, "is only used with sparsity_profile (OWL), which dcomp does not support");
  }
  args.get<bool>("preserve_sparsity_mask", false);
  args.get<bool>("offload_hessians", false);
  args.ignore_sequential_update();
  requires_calibration_data = true;
}

nlohmann::json SparseGPTModifier::own_args() const {
  return {{"sparsity", sparsity_}, {"mask_structure", mask_structure_}, {"block_size", block_size_},
          {"dampening_frac", dampening_frac_}, {"targets", targets_}, {"ignore", ignore_},
          {"sequential_targets", sequential_targets_}};
}

bool SparseGPTModifier::on_initialize_plan(State& state, const Kwargs&, const std::shared_ptr<CompressionPlan>& plan) {
  // The checkpoint's sparsity_config targets: the recipe's, or, when a target selects
  // Linears through the layer they sit in, the names of the Linears pruned.
  nlohmann::json config_targets = targets_;
  if (state.model) {
    model_known_ = true;
    architecture_ = state.model->architecture();
    if (!sequential_targets_.empty() &&
        !names_the_decoder_layers(sequential_targets_, architecture_, state.model->num_layers())) {
      throw RecipeError("SparseGPTModifier: sequential_targets " + nlohmann::json(sequential_targets_).dump() +
                        " do not name the decoder layers of " + architecture_ +
                        "; dcomp runs one decoder layer at a time, so only those are accepted (e.g. " +
                        decoder_layer_class(architecture_) + ")");
    }
    bool through_enclosing = false;
    std::vector<std::string> selected;
    for (const auto& module : state.model->modules()) {
      if (std::find(module.class_names.begin(), module.class_names.end(), "Linear") == module.class_names.end())
        continue;
      if (!selects_linear_or_enclosing(module, architecture_, targets_, ignore_)) continue;
      pending_.insert(module.name);
      selected.push_back(module.name);
      if (module.name == kLmHead && plan) plan->compresses_lm_head = true;
      through_enclosing = through_enclosing || !any_target_matches(module, targets_);
    }
    if (pending_.empty()) {
      throw RecipeError("SparseGPTModifier: its targets " + nlohmann::json(targets_).dump() +
                        " match no Linear module of the model, nor a module that holds one");
    }
    if (through_enclosing) config_targets = selected;
  }
  if (plan) {
    plan->needs_hessians = true;
    plan->sparsity_config = {{"format", "dense"},
                                {"sparsity_structure", prune_m_ > 0 ? mask_structure_ : "unstructured"},
                                {"global_sparsity", sparsity_},
                                {"targets", config_targets},
                                {"ignore", ignore_},
                                {"registry_requires_subclass", false}};
  }
  return true;
}

namespace {

// `selected` (indices into modules) grouped by weight shape, in order, for the tensor-ops loop.
std::vector<std::vector<size_t>> same_shape_stacks(const std::vector<LinearModule*>& modules,
                                                   const std::vector<size_t>& selected) {
  const auto weight_of = [&](size_t k) -> const at::Tensor& { return modules[selected[k]]->weight; };
  std::vector<std::vector<size_t>> stacks = stacks_by_key(
      selected.size(), [&](size_t k) { return std::to_string(weight_of(k).size(0)) + "x" + std::to_string(weight_of(k).size(1)); },
      [&](size_t k) { return weight_of(k).numel(); });
  for (auto& stack : stacks) {
    for (size_t& k : stack) k = selected[k];
  }
  return stacks;
}

}  // namespace

void SparseGPTModifier::on_layer(State&, const Event&, LayerWork& layer) {
  std::vector<LinearModule*> modules;
  for (auto& module : layer.linears) {
    ModuleInfo info = linear_module_info(module);
    if (selects_linear_or_enclosing(info, architecture_, targets_, ignore_)) modules.push_back(&module);
  }
  quant::SparseGptOptions options;
  options.sparsity = sparsity_;
  options.prune_n = prune_n_;
  options.prune_m = prune_m_;
  options.block_size = block_size_;
  options.dampening_frac = dampening_frac_;
  DistributedSolve solve;
  solve.algorithm = "SparseGPT";
  solve.solve_mine = [&](const std::vector<size_t>& mine, std::vector<quant::CompressedWeight>& results,
                         std::vector<double>& losses) {
    const auto keep = [&](size_t i, const quant::SparseGptResult& pruned) {
      results[i].sparsity_mask = pruned.mask;
      results[i].effective_weight = pruned.weight;
      modules[i]->weight = pruned.weight;  // the original is freed now, not after the layer's last solve
      losses[i] = pruned.loss;
    };
    const auto hessian_of = [&](size_t i) {
      const InputStatistics& input = layer.input_of(*modules[i]);
      return input.hessian_sum / static_cast<double>(input.num_samples);
    };
    if (!layer.solve.tensor_ops) {
      layer.for_each(mine.size(), [&](size_t j) {
        keep(mine[j], quant::sparsegpt_prune(modules[mine[j]]->weight, hessian_of(mine[j]), options));
      });
      return;
    }
    // On the layer's device: same-shape Linears pruned as one stack (sharing the Hessian when
    // they read one input, e.g. q/k/v or every expert's gate/up). On the CPU the stacks run on
    // the solve workers with one thread each, as the host loop's solves do: OpenBLAS's Cholesky
    // blocks differently with more threads, and the factor's bytes would move.
    const std::vector<std::vector<size_t>> stacks = same_shape_stacks(modules, mine);
    layer.for_each(stacks.size(), [&](size_t s) {
      const std::vector<size_t>& stack = stacks[s];
      std::vector<at::Tensor> weights, hessians;
      const bool shared = std::all_of(stack.begin(), stack.end(),
                                      [&](size_t i) { return modules[i]->input == modules[stack.front()]->input; });
      for (const size_t i : stack) {
        weights.push_back(modules[i]->weight);
        if (!shared || hessians.empty()) hessians.push_back(hessian_of(i));
      }
      const std::vector<quant::SparseGptResult> pruned =
          quant::sparsegpt_prune_batch(weights, hessians, options, layer.solve.device);
      for (size_t k = 0; k < stack.size(); ++k) keep(stack[k], pruned[k]);
    });
  };
  solve.adopt = [&](LinearModule& module, quant::CompressedWeight& result) {
    result.sparsity_structure = prune_m_ > 0 ? mask_structure_ : "unstructured";
    module.weight = result.effective_weight;
    module.compressed = std::move(result);
    pending_.erase(module.name);
  };
  const nlohmann::json loss_report = solve_distributed(layer, modules, solve);
  report("layer", layer.layer_index);
  report("loss", loss_report);
}

bool SparseGPTModifier::on_finalize(State&, const Kwargs& kwargs) {
  if (model_known_ && started()) require_all_reached(pending_, kwargs, "SparseGPTModifier", "prune");
  return true;
}

}  // namespace dcomp::lifecycle
