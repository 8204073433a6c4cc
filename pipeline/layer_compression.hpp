// The compress phase of a layer: SEQUENTIAL_EPOCH_END through the lifecycle (the modifiers
// compress the layer work's Linears), and on request the output error of each compressed
// module against round-to-nearest with the same arguments.
#pragma once

#include <memory>

#include "lifecycle/layer_work.hpp"
#include "pipeline/layer_report.hpp"
#include "pipeline/sequential_run.hpp"

namespace dcomp::pipeline {

/// SEQUENTIAL_EPOCH_END for `work`: the modifiers compress its Linears; their results go into
/// `report`. With compare_round_to_nearest, also the output error of each compressed module
/// against round-to-nearest with the same arguments.
void compress_work(const PipelineInputs& in, const std::shared_ptr<lifecycle::LayerWork>& work, LayerReport& report);

}  // namespace dcomp::pipeline
