#include "pipeline/layer_compression.hpp"

#include <ATen/ATen.h>

#include <map>
#include <string>

#include "lifecycle/modifiers/weight_quantization.hpp"

namespace dcomp::pipeline {
namespace {

/// ‖(W − Ŵ)X‖²_F = ½·Σ((W − Ŵ)·H_sum ⊙ (W − Ŵ)) with H_sum = Σ 2·xᵀx.
double output_error(const at::Tensor& original, const at::Tensor& compressed, const at::Tensor& hessian_sum) {
  at::Tensor delta = (original - compressed).to(at::kDouble);
  return 0.5 * (at::mm(delta, hessian_sum.to(at::kDouble)) * delta).sum().item<double>();
}

struct OriginalModule {
  at::Tensor weight;
  at::Tensor hessian_sum;
};

}  // namespace

void compress_work(const PipelineInputs& in, const std::shared_ptr<lifecycle::LayerWork>& work, LayerReport& report) {
  std::map<std::string, OriginalModule> originals;
  if (in.options.compare_round_to_nearest) {
    for (const auto& module : work->linears) {
      const auto& stats = work->inputs[module.input];
      if (stats.hessian_sum.defined()) originals[module.name] = {module.weight.clone(), stats.hessian_sum.clone()};
    }
  }
  report.modifier_results = in.lifecycle->event(lifecycle::EventType::SEQUENTIAL_EPOCH_END, 0, {{"layer", work}});
  for (const auto& module : work->linears) {
    auto original = originals.find(module.name);
    if (original == originals.end() || !module.compressed || !module.compressed->weight_args) continue;
    ModuleError error;
    error.name = module.name;
    error.compressed = output_error(original->second.weight, module.weight, original->second.hessian_sum);
    // NVFP4 (tensor_group) rounds with the global scale the module was compressed with.
    auto rtn = lifecycle::quantize_round_to_nearest(original->second.weight, *module.compressed->weight_args,
                                                    module.compressed->global_scale);
    error.round_to_nearest = output_error(original->second.weight, rtn.effective_weight, original->second.hessian_sum);
    report.errors.push_back(error);
  }
}

}  // namespace dcomp::pipeline
