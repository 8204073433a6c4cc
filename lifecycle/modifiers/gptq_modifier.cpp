// reference: llm-compressor src/llmcompressor/modifiers/gptq/base.py (compress_modules)
#include "lifecycle/modifiers/gptq_modifier.hpp"

#include <ATen/ATen.h>

#include <chrono>

#include <spdlog/spdlog.h>

#include "kernels/quant/gptq.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/modifier_args.hpp"
#include "lifecycle/modifiers/module_distribution.hpp"
#include "lifecycle/modifiers/weight_quantization.hpp"

namespace dcomp::lifecycle {

GPTQModifier::GPTQModifier(ModifierArgs& args) : QuantizingModifier("GPTQModifier", args) {
  block_size_ = args.get<int64_t>("block_size", 128);
  dampening_frac_ = args.get<double>("dampening_frac", 0.01);
  offload_hessians_ = args.get<bool>("offload_hessians", false);  // Hessians already live in host memory on CPU
  if (block_size_ <= 0) args.fail("block_size", "must be positive");
  if (dampening_frac_ < 0) args.fail("dampening_frac", "must not be negative");
  requires_calibration_data = true;
}

nlohmann::json GPTQModifier::own_args() const {
  nlohmann::json out = QuantizingModifier::own_args();
  out["block_size"] = block_size_;
  out["dampening_frac"] = dampening_frac_;
  if (offload_hessians_) out["offload_hessians"] = true;
  return out;
}

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
  // Linears this rank solves that read the same input share its normalised Hessian and its
  // factorization (q/k/v, gate/up, every expert's gate/up when all experts see every token);
  // each is dropped after the last of them.
  std::map<std::string, size_t> last_reader;
  for (size_t i = 0; i < modules.size(); ++i) {
    if (owners[i] == rank) last_reader[modules[i]->input] = i;
  }
  struct SharedSolveInput {
    at::Tensor hessian;  // [in, in] fp32: Σ 2·xᵀx / samples
    std::map<quant::ActOrder, quant::GptqFactorization> factorizations;
  };
  std::map<std::string, SharedSolveInput> shared;
  for (size_t i = 0; i < modules.size(); ++i) {
    LinearModule& module = *modules[i];
    const auto& scheme = schemes.at(module.name);
    InputStatistics& input = layer.input_of(module);
    quant::CompressedWeight result;
    const auto global = global_scales.find(module.name);
    const at::Tensor global_scale = global == global_scales.end() ? at::Tensor() : global->second;
    if (owners[i] == rank) {
      if (!input.hessian_sum.defined() || input.num_samples == 0) {
        throw LifecycleError(module.name + ": GPTQ needs calibration data, but no Hessian was accumulated");
      }
      if (input.num_tokens == 0) {
        // An expert the router sent no calibration token: its Hessian is zero and GPTQ would
        // zero every column, so it is rounded to nearest (calibrating every expert avoids this).
        spdlog::warn("{}: no calibration token reached this module; rounded to nearest instead of GPTQ", module.name);
        result = quantize_round_to_nearest(module.weight, *scheme.weights, global_scale);
        losses.emplace_back(module.name, 0.0);
      }
    }
    if (owners[i] == rank && input.num_tokens > 0) {
      const auto started = std::chrono::steady_clock::now();
      SharedSolveInput& solve_input = shared[module.input];
      if (!solve_input.hessian.defined()) {
        solve_input.hessian = input.hessian_sum / static_cast<double>(input.num_samples);
      }
      const quant::ActOrder actorder = scheme.weights->actorder;
      auto factorization = solve_input.factorizations.find(actorder);
      if (factorization == solve_input.factorizations.end()) {
        factorization =
            solve_input.factorizations.emplace(actorder, quant::gptq_factorize(solve_input.hessian, actorder, options))
                .first;
      }
      quant::GptqResult solved = quant::gptq_quantize(module.weight, solve_input.hessian, *scheme.weights, options,
                                                      global_scale, &factorization->second);
      if (last_reader.at(module.input) == i) shared.erase(module.input);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (solved.retries > 0) {
        spdlog::warn("{}: Cholesky failed; damping raised {} time(s) to {:.3g}", module.name, solved.retries,
                     solved.damping);
      }
      if (solved.fell_back_to_rtn) {
        spdlog::warn("{}: the Hessian stayed singular after raising the damping; rounded to nearest instead",
                     module.name);
      }
      spdlog::debug("{}: GPTQ loss {:.6g} in {:.3f} s on rank {}", module.name, solved.loss, seconds, rank);
      losses.emplace_back(module.name, solved.loss);
      result.weight_args = *scheme.weights;
      result.codes = solved.codes;
      result.scale = solved.qparams.scale;
      result.global_scale = solved.qparams.global_scale;
      if (!scheme.weights->symmetric) result.zero_point = solved.qparams.zero_point;
      if (scheme.weights->actorder == quant::ActOrder::Group) result.g_idx = solved.g_idx;
      result.effective_weight = solved.dequantized;
      if (module.compressed && module.compressed->sparsity_mask.defined()) {
        result.sparsity_mask = module.compressed->sparsity_mask;
        result.sparsity_structure = module.compressed->sparsity_structure;
        apply_sparsity_mask(result);
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
