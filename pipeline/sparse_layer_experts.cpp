#include "pipeline/sparse_layer_experts.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "lifecycle/modifiers/module_distribution.hpp"
#include "pipeline/layer_statistics.hpp"
#include "pipeline/llama_model_handle.hpp"

namespace dcomp::pipeline {

std::map<std::string, int> expert_input_owners(int layer_index, const model::LayerLayout& layout, int world_size,
                                               bool experts_read_router_input) {
  std::vector<std::pair<std::string, std::vector<std::pair<int64_t, int64_t>>>> inputs;
  for (const auto& input : layout.inputs) {
    if (input.expert < 0) continue;
    const std::string key =
        calibration_input_key(layer_index, layout, input.linears.front(), experts_read_router_input);
    if (key != layer_module_name(layer_index, input.key)) continue;
    std::vector<std::pair<int64_t, int64_t>> readers;
    for (const auto& name : input.linears) readers.emplace_back(layout.find(name)->out_features, input.in_features);
    inputs.emplace_back(layer_module_name(layer_index, input.key), std::move(readers));
  }
  return lifecycle::assign_input_owners(inputs, world_size);
}

/// Warns (rank 0) about experts the router sent fewer calibration tokens than the threshold.
void warn_about_rare_experts(int layer_index, const model::LayerLayout& layout, const std::vector<int64_t>& tokens,
                             const PipelineOptions& options, int rank) {
  if (rank != 0) return;
  std::vector<std::string> rare;
  for (size_t e = 0; e < tokens.size(); ++e) {
    if (tokens[e] < options.moe_min_expert_tokens) {
      rare.push_back(std::to_string(e) + " (" + std::to_string(tokens[e]) + ")");
    }
  }
  if (rare.empty()) return;
  std::string list;
  for (const auto& entry : rare) list += (list.empty() ? "" : ", ") + entry;
  spdlog::warn("layer {}: {} of {} experts were routed fewer than {} calibration tokens: {}; {}", layer_index,
               rare.size(), layout.num_experts, options.moe_min_expert_tokens, list,
               options.moe_calibrate_all_experts
                   ? "their statistics still come from every token (calibrating all experts)"
                   : "their Hessians are poor: calibrate all experts or add calibration data");
}

}  // namespace dcomp::pipeline
