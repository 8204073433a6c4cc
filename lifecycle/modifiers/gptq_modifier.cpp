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
#include "lifecycle/modifiers/module_distribution.hpp"
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

}  // namespace

void GPTQModifier::compress_layer(LayerWork& layer, const std::vector<LinearModule*>& modules) {
  comm::Communicator* comm = layer.comm;
  const int rank = comm ? comm->rank() : 0;
  const int world = comm ? comm->world_size() : 1;
  const std::vector<int> owners = solve_owners(layer, modules, world);

  std::vector<std::pair<std::string, double>> losses;
  quant::GptqOptions options;
  options.block_size = block_size_;
  options.dampening_frac = dampening_frac_;
  std::map<std::string, quant::QuantizationScheme> schemes;
  for (LinearModule* module : modules) schemes.emplace(module->name, scheme_of(*module));
  // Computed by every rank from the same weights: the owner of a module needs the scale
  // its fused siblings share.
  const auto global_scales = fused_weight_global_scales(layer, modules, [&](const LinearModule& module) {
    const auto found = schemes.find(module.name);
    return found == schemes.end() || !found->second.weights ? nullptr : &*found->second.weights;
  });
  // This rank's solves. Linears that read the same input share its normalised Hessian and
  // its factorization (q/k/v, gate/up, every expert's gate/up when all experts see every
  // token). Inputs are taken a wave at a time (as many as there are solve workers, or a batch
  // of them for the tensor-ops loop): their factorizations run concurrently, then every solve
  // that reads them, then they are dropped.
  if (layer.solve.tensor_ops) {
    options.solver = quant::GptqSolver::TensorOps;
    options.device = layer.solve.device;
  }
  std::vector<std::optional<quant::CompressedWeight>> solved(modules.size());
  std::vector<double> module_loss(modules.size(), 0.0);
  std::vector<std::string> input_order;                    // inputs of this rank's GPTQ solves
  std::map<std::string, std::vector<size_t>> readers;      // input → module indices
  for (size_t i = 0; i < modules.size(); ++i) {
    if (owners[i] != rank) continue;
    const InputStatistics& input = layer.input_of(*modules[i]);
    if (!input.hessian_sum.defined() || input.num_samples == 0) {
      throw LifecycleError(modules[i]->name + ": GPTQ needs calibration data, but no Hessian was accumulated");
    }
    if (input.num_tokens == 0) continue;  // rounded to nearest below
    if (!readers.count(modules[i]->input)) input_order.push_back(modules[i]->input);
    readers[modules[i]->input].push_back(i);
  }
  const auto global_scale_of = [&](const LinearModule& module) {
    const auto global = global_scales.find(module.name);
    return global == global_scales.end() ? at::Tensor() : global->second;
  };
  const size_t wave_size =
      layer.solve.tensor_ops ? kTensorOpsWaveInputs : static_cast<size_t>(std::max(layer.solve_workers, 1));
  for (size_t first = 0; first < input_order.size(); first += wave_size) {
    const std::vector<std::string> wave(input_order.begin() + static_cast<std::ptrdiff_t>(first),
                                        input_order.begin() + static_cast<std::ptrdiff_t>(
                                                                  std::min(first + wave_size, input_order.size())));
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
    const auto keep = [&](size_t i, quant::GptqResult& gptq, double seconds) {
      LinearModule& module = *modules[i];
      log_gptq_solve(module.name, gptq, seconds, rank);
      module_loss[i] = gptq.loss;
      quant::CompressedWeight result = compressed_weight_of(module, schemes.at(module.name), gptq);
      // The original weight is freed now rather than after the layer's last solve.
      module.weight = result.effective_weight;
      solved[i] = std::move(result);
    };
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
      continue;
    }
    // The tensor-ops loop: same-shape Linears with the same scheme solved as one stack.
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
      std::vector<quant::GptqResult> results =
          quant::gptq_quantize_batch(weights, *schemes.at(modules[stack.front().module]->name).weights, options,
                                     stack_factorizations, stack_global_scales);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() /
                             static_cast<double>(stack.size());
      for (size_t k = 0; k < stack.size(); ++k) keep(stack[k].module, results[k], seconds);
    }
  }

  // In module order on every rank: the owner's result is broadcast (the collectives stay in
  // program order on this thread) and replaces the module's weight.
  for (size_t i = 0; i < modules.size(); ++i) {
    LinearModule& module = *modules[i];
    const auto& scheme = schemes.at(module.name);
    InputStatistics& input = layer.input_of(module);
    quant::CompressedWeight result;
    if (owners[i] == rank) {
      if (solved[i]) {
        result = std::move(*solved[i]);
        losses.emplace_back(module.name, module_loss[i]);
      } else {
        // An expert the router sent no calibration token: its Hessian is zero and GPTQ would
        // zero every column, so it is rounded to nearest (calibrating every expert avoids this).
        spdlog::warn("{}: no calibration token reached this module; rounded to nearest instead of GPTQ", module.name);
        result = quantize_round_to_nearest(module.weight, *scheme.weights, global_scale_of(module));
        losses.emplace_back(module.name, 0.0);
      }
    }
    if (comm) broadcast_compressed(*comm, result, owners[i]);
    result.weight_args = *scheme.weights;
    if (module.compressed && module.compressed->sparsity_mask.defined()) {
      result.sparsity_structure = module.compressed->sparsity_structure;
    }
    attach_input_quantization(result, scheme, &input, module.name);
    module.weight = result.effective_weight;
    module.compressed = std::move(result);
  }
  nlohmann::json loss_report = nlohmann::json::object();
  for (const auto& [name, loss] : comm ? all_gather_values(*comm, losses) : losses) {
    loss_report[name] = loss;
    spdlog::info("layer {} {}: GPTQ loss {:.6g}", layer.layer_index, name, loss);
  }
  report("loss", loss_report);
}

}  // namespace dcomp::lifecycle
