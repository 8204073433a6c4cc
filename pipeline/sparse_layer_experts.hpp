// The experts of a sparse (mixture-of-experts) layer across ranks and calibration tokens:
// which rank solves each expert's Linears (its Hessian sums are reduced to that rank only), and
// a warning about experts the router sent too few calibration tokens.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernels/model/layer_layout.hpp"
#include "pipeline/pipeline_options.hpp"

namespace dcomp::pipeline {

/// Owners of a sparse layer's expert inputs, balanced by the cost of their readers' solves.
/// Inputs the experts share with the router are held by every rank, so they have no owner.
std::map<std::string, int> expert_input_owners(int layer_index, const model::LayerLayout& layout, int world_size,
                                               bool experts_read_router_input);

/// Warns (rank 0) about experts the router sent fewer calibration tokens than the threshold.
void warn_about_rare_experts(int layer_index, const model::LayerLayout& layout, const std::vector<int64_t>& tokens,
                             const PipelineOptions& options, int rank);

}  // namespace dcomp::pipeline
