// reference: llm-compressor src/llmcompressor/modifiers/gptq/base.py (compress_modules)
#include "lifecycle/modifiers/gptq_modifier.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include <spdlog/spdlog.h>

#include "kernels/quant/gptq.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/modifier_args.hpp"
#include "lifecycle/modifiers/distributed_solve.hpp"
#include "lifecycle/modifiers/solve_stacks.hpp"
#include "lifecycle/modifiers/weight_quantization.hpp"

namespace dcomp::lifecycle {

GPTQModifier::GPTQModifier(ModifierArgs& args) : QuantizingModifier("GPTQModifier", args) {
  block_size_ = args.get<int64_t>("block_size", 128);
  dampening_frac_ = args.get<double>("dampening_frac", 0.01);
  offload_hessians_ = args.get<bool>("offload_hessians", false);  // Hessians already live in host memory on CPU
  if (block_size_ <= 0) args.fail("block_size", "must be positive");
  if (!(dampening_frac_ >= 0.0 && dampening_frac_ < 1.0)) {
    args.fail("dampening_frac", "must be in [0, 1) (the fraction of the Hessian's mean diagonal added to it; "
                                "llm-compressor's default is 0.01), got " + std::to_string(dampening_frac_));
  }
  requires_calibration_data = true;
}

nlohmann::json GPTQModifier::own_args() const {
  nlohmann::json out = QuantizingModifier::own_args();
  out["block_size"] = block_size_;
  out["dampening_frac"] = dampening_frac_;
  if (offload_hessians_) out["offload_hessians"] = true;
  return out;
}

namespace {

// Inputs whose factorizations one wave of the tensor-ops loop holds at once.
constexpr size_t kTensorOpsWaveInputs = 64;

// One input's normalised Hessian and its factorization for one activation order.
struct GptqInputFactorization {
  const std::string* input;
  quant::ActOrder actorder;
  at::Tensor hessian;  // [in, in] fp32: Σ 2·xᵀx / samples
  quant::GptqFactorization factorization;
};

struct GptqPlannedSolve {
  size_t module;         // index into the layer's modules
  size_t factorization;  // index into the wave's factorizations
};

void log_gptq_solve(const std::string& name, const quant::GptqResult& gptq, double seconds, int rank) {
  if (gptq.retries > 0) {
    spdlog::warn("{}: Cholesky failed; damping raised {} time(s) to {:.3g}", name, gptq.retries, gptq.damping);
  }
  if (gptq.fell_back_to_rtn) {
    spdlog::warn("{}: the Hessian stayed singular after raising the damping; rounded to nearest instead", name);
  }
  spdlog::debug("{}: GPTQ loss {:.6g} in {:.3f} s on rank {}", name, gptq.loss, seconds, rank);
}

quant::CompressedWeight compressed_weight_of(const LinearModule& module, const quant::QuantizationScheme& scheme,
                                             quant::GptqResult& gptq) {
  quant::CompressedWeight result;
  result.weight_args = *scheme.weights;
  result.codes = gptq.codes;
  result.scale = gptq.qparams.scale;
  result.global_scale = gptq.qparams.global_scale;
  if (!scheme.weights->symmetric) result.zero_point = gptq.qparams.zero_point;
  if (scheme.weights->actorder == quant::ActOrder::Group) result.g_idx = gptq.g_idx;
  result.effective_weight = gptq.dequantized;
  if (module.compressed && module.compressed->sparsity_mask.defined()) {
    result.sparsity_mask = module.compressed->sparsity_mask;
    result.sparsity_structure = module.compressed->sparsity_structure;
    apply_sparsity_mask(result);
  }
  return result;
}

// The wave's solves grouped for the tensor-ops loop: Linears of one shape and one weight
// scheme, in solve order.
std::vector<std::vector<GptqPlannedSolve>> gptq_solve_stacks(
    const std::vector<GptqPlannedSolve>& solves, const std::vector<LinearModule*>& modules,
    const std::map<std::string, quant::QuantizationScheme>& schemes) {
  const auto weight_of = [&](size_t s) -> const at::Tensor& { return modules[solves[s].module]->weight; };
  const auto key_of = [&](size_t s) {
    const at::Tensor& weight = weight_of(s);
    return std::to_string(weight.size(0)) + "x" + std::to_string(weight.size(1)) +
           quant::to_json(*schemes.at(modules[solves[s].module]->name).weights).dump();
  };
  std::vector<std::vector<GptqPlannedSolve>> stacks;
  for (const auto& stack : stacks_by_key(solves.size(), key_of, [&](size_t s) { return weight_of(s).numel(); })) {
    stacks.emplace_back();
    for (const size_t s : stack) stacks.back().push_back(solves[s]);
  }
  return stacks;
}

// What every GPTQ solve of one layer on this rank shares, and where its results go.
struct GptqLayerSolves {
  LayerWork& layer;
  const std::vector<LinearModule*>& modules;
  const std::map<std::string, quant::QuantizationScheme>& schemes;
  const std::map<std::string, at::Tensor>& global_scales;  // fused siblings' shared NVFP4 scales
  quant::GptqOptions options;
  int rank = 0;
  std::vector<quant::CompressedWeight>& results;
  std::vector<double>& losses;

  at::Tensor global_scale_of(const LinearModule& module) const {
    const auto global = global_scales.find(module.name);
    return global == global_scales.end() ? at::Tensor() : global->second;
  }

  void keep(size_t i, quant::GptqResult& gptq, double seconds) const {
    LinearModule& module = *modules[i];
    log_gptq_solve(module.name, gptq, seconds, rank);
    losses[i] = gptq.loss;
    results[i] = compressed_weight_of(module, schemes.at(module.name), gptq);
    module.weight = results[i].effective_weight;  // the original is freed now, not after the layer's last solve
  }

  // One wave of inputs: their factorizations (one per input and activation order) concurrently,
  // then every solve that reads them (one module per solve worker on the host; same-shape
  // Linears with the same scheme as one stack in the tensor-ops loop), then they are dropped.
  void solve_wave(const std::vector<std::string>& wave, const std::map<std::string, std::vector<size_t>>& readers) const {
    std::vector<GptqInputFactorization> factorizations;
    std::vector<GptqPlannedSolve> solves;
    for (const std::string& key : wave) {
      std::map<quant::ActOrder, size_t> by_order;
      for (const size_t i : readers.at(key)) {
        const quant::ActOrder actorder = schemes.at(modules[i]->name).weights->actorder;
        if (!by_order.count(actorder)) {
          by_order[actorder] = factorizations.size();
          factorizations.push_back({&key, actorder, {}, {}});
        }
        solves.push_back({i, by_order.at(actorder)});
      }
    }
    layer.for_each(factorizations.size(), [&](size_t f) {
      GptqInputFactorization& entry = factorizations[f];
      const InputStatistics& input = layer.inputs.at(*entry.input);
      entry.hessian = input.hessian_sum / static_cast<double>(input.num_samples);
      entry.factorization = quant::gptq_factorize(entry.hessian, entry.actorder, options);
    });
    if (!layer.solve.tensor_ops) {
      layer.for_each(solves.size(), [&](size_t s) {
        const GptqPlannedSolve& solve = solves[s];
        LinearModule& module = *modules[solve.module];
        const auto started = std::chrono::steady_clock::now();
        quant::GptqResult gptq =
            quant::gptq_quantize(module.weight, factorizations[solve.factorization].hessian,
                                 *schemes.at(module.name).weights, options, global_scale_of(module),
                                 &factorizations[solve.factorization].factorization);
        keep(solve.module, gptq, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      });
      return;
    }
    for (const std::vector<GptqPlannedSolve>& stack : gptq_solve_stacks(solves, modules, schemes)) {
      std::vector<at::Tensor> weights, stack_global_scales;
      std::vector<const quant::GptqFactorization*> stack_factorizations;
      for (const GptqPlannedSolve& solve : stack) {
        weights.push_back(modules[solve.module]->weight);
        stack_factorizations.push_back(&factorizations[solve.factorization].factorization);
        const at::Tensor global_scale = global_scale_of(*modules[solve.module]);
        if (global_scale.defined()) stack_global_scales.push_back(global_scale);
      }
      const bool shared = std::all_of(stack.begin(), stack.end(), [&](const GptqPlannedSolve& solve) {
        return solve.factorization == stack.front().factorization;
      });
      if (shared) stack_factorizations.resize(1);
      const auto started = std::chrono::steady_clock::now();
      std::vector<quant::GptqResult> gptq =
          quant::gptq_quantize_batch(weights, *schemes.at(modules[stack.front().module]->name).weights, options,
                                     stack_factorizations, stack_global_scales);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() /
                             static_cast<double>(stack.size());
      for (size_t k = 0; k < stack.size(); ++k) keep(stack[k].module, gptq[k], seconds);
    }
  }

  // This rank's modules. Linears that read the same input share its normalised Hessian and its
  // factorization (q/k/v, gate/up, every expert's gate/up when all experts see every token).
  // Inputs are taken a wave at a time (as many as there are solve workers, or a batch of them
  // for the tensor-ops loop). An expert the router sent no calibration token has a zero
  // Hessian, on which GPTQ would zero every column: it is rounded to nearest instead
  // (calibrating every expert avoids this).
  void solve_mine(const std::vector<size_t>& mine) const {
    std::vector<std::string> input_order;                // inputs of this rank's GPTQ solves
    std::map<std::string, std::vector<size_t>> readers;  // input → module indices
    for (const size_t i : mine) {
      LinearModule& module = *modules[i];
      if (layer.input_of(module).num_tokens == 0) {
        spdlog::warn("{}: no calibration token reached this module; rounded to nearest instead of GPTQ", module.name);
        results[i] = quantize_round_to_nearest(module.weight, *schemes.at(module.name).weights, global_scale_of(module));
        losses[i] = 0.0;
        continue;
      }
      if (!readers.count(module.input)) input_order.push_back(module.input);
      readers[module.input].push_back(i);
    }
    const size_t wave_size =
        layer.solve.tensor_ops ? kTensorOpsWaveInputs : static_cast<size_t>(std::max(layer.solve_workers, 1));
    for (size_t first = 0; first < input_order.size(); first += wave_size) {
      const auto begin = input_order.begin() + static_cast<std::ptrdiff_t>(first);
      solve_wave({begin, begin + static_cast<std::ptrdiff_t>(std::min(wave_size, input_order.size() - first))}, readers);
    }
  }
};

}  // namespace

void GPTQModifier::compress_layer(LayerWork& layer, const std::vector<LinearModule*>& modules) {
  std::map<std::string, quant::QuantizationScheme> schemes;
  for (LinearModule* module : modules) schemes.emplace(module->name, scheme_of(*module));
  // Computed by every rank from the same weights: the owner of a module needs the scale
  // its fused siblings share.
  const auto global_scales = fused_weight_global_scales(layer, modules, [&](const LinearModule& module) {
    const auto found = schemes.find(module.name);
    return found == schemes.end() || !found->second.weights ? nullptr : &*found->second.weights;
  });
  quant::GptqOptions options;
  options.block_size = block_size_;
  options.dampening_frac = dampening_frac_;
  if (layer.solve.tensor_ops) {
    options.solver = quant::GptqSolver::TensorOps;
    options.device = layer.solve.device;
  }
  DistributedSolve solve;
  solve.algorithm = "GPTQ";
  solve.solve_mine = [&](const std::vector<size_t>& mine, std::vector<quant::CompressedWeight>& results,
                         std::vector<double>& losses) {
    const GptqLayerSolves solves{layer, modules, schemes, global_scales, options,
                                 layer.comm ? layer.comm->rank() : 0, results, losses};
    solves.solve_mine(mine);
  };
  solve.adopt = [&](LinearModule& module, quant::CompressedWeight& result) {
    const quant::QuantizationScheme& scheme = schemes.at(module.name);
    result.weight_args = *scheme.weights;
    if (module.compressed && module.compressed->sparsity_mask.defined()) {
      result.sparsity_structure = module.compressed->sparsity_structure;
    }
    attach_input_quantization(result, scheme, &layer.input_of(module), module.name);
    module.weight = result.effective_weight;
    module.compressed = std::move(result);
  };
  report("loss", solve_distributed(layer, modules, solve));
}

}  // namespace dcomp::lifecycle
