// The last subgraph of a one-shot run when a modifier selects lm_head: the final norm and
// lm_head, calibrated on the hidden states leaving the last decoder layer and compressed as a
// layer of its own, numbered num_hidden_layers.
// reference: llm-compressor src/llmcompressor/pipelines/sequential/pipeline.py
#pragma once

#include "kernels/model/weight_loading.hpp"
#include "pipeline/hessian_queue.hpp"
#include "pipeline/hidden_states.hpp"
#include "pipeline/layer_report.hpp"
#include "pipeline/sequential_run.hpp"

namespace dcomp::pipeline {

/// The last subgraph, the final norm and lm_head (run when a modifier selects lm_head):
/// lm_head's input statistics from model.norm applied to the hidden states leaving the
/// last decoder layer (`hidden`; null for a data-free run), then SEQUENTIAL_EPOCH_END
/// for a LayerWork holding only lm_head, numbered num_hidden_layers.
// reference: llm-compressor pipelines/sequential/pipeline.py (the subgraph after the last
// sequential target holds model.norm and lm_head, and its modules are calibrated too)
LayerReport compress_lm_head(const PipelineInputs& in, const model::EmbeddingAndHeadWeights& stored_ends,
                             const HiddenStates* hidden, HessianQueue* hessian_worker);

}  // namespace dcomp::pipeline
