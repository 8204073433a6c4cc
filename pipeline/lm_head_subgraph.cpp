// reference: llm-compressor src/llmcompressor/pipelines/sequential/pipeline.py
#include "pipeline/lm_head_subgraph.hpp"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <vector>

#include "kernels/model/rms_norm.hpp"
#include "pipeline/fault_injection.hpp"
#include "pipeline/finite_checks.hpp"
#include "pipeline/hidden_state_placement.hpp"
#include "pipeline/layer_compression.hpp"
#include "pipeline/layer_statistics.hpp"
#include "pipeline/phase_clock.hpp"

namespace dcomp::pipeline {

LayerReport compress_lm_head(const PipelineInputs& in, const model::EmbeddingAndHeadWeights& stored_ends,
                             const HiddenStates* hidden, HessianQueue* hessian_worker) {
  const auto& config = *in.config;
  // The modifiers work on an fp32 head (the embedding is written as stored).
  model::EmbeddingAndHeadWeights ends = stored_ends;
  if (ends.lm_head.scalar_type() != at::kFloat) ends.lm_head = ends.lm_head.to(at::kFloat);
  const c10::Device device = in.options.device;
  const int index = static_cast<int>(config.num_hidden_layers);
  LayerReport report;
  report.layer = index;
  auto work = std::make_shared<lifecycle::LayerWork>();
  work->layer_index = index;
  work->model_dtype = in.sink->model_dtype();
  work->comm = in.comm;
  const std::vector<StatisticsInput> inputs = lm_head_inputs(config);
  // Modifiers assign new tensors to module.weight: a tied head leaves the embedding as it is.
  work->linears.push_back({inputs.front().consumers.front(), ends.lm_head, at::Tensor(), inputs.front().key, {}});

  auto started = PhaseClock::now();
  LayerStatistics statistics(index, inputs, in.plan->needs_hessians, in.plan->needs_channel_ranges, device);
  if (hidden != nullptr) {
    const at::Tensor norm = ends.final_norm.to(device);  // [hidden] fp32
    for (size_t c = 0; c < hidden->chunks.size(); ++c) {
      for (const auto& batch : hidden->chunks[c]) {
        at::Tensor normed = model::rms_norm(batch_on(batch, device), norm, config.rms_norm_eps);  // [B, S, hidden]
        statistics.observe_input(inputs.front().key, normed.reshape({-1, config.hidden_size}).contiguous());
      }
      statistics.end_chunk(hidden->samples_per_chunk[c], hessian_worker);
    }
    if (hessian_worker) hessian_worker->drain();
  }
  report.calibrate_seconds = seconds_since(started);
  started = PhaseClock::now();
  in.comm->set_position("lm_head", "reduce");
  if (hidden != nullptr) statistics.all_reduce(*in.comm);
  report.reduced_bytes = statistics.reduced_bytes();
  statistics.fill(*work);
  if (hidden != nullptr) require_finite_statistics(*work);
  report.reduce_seconds = seconds_since(started);

  started = PhaseClock::now();
  in.comm->set_position("lm_head", "compress");
  compress_work(in, work, report);
  report.compress_seconds = seconds_since(started);
  kill_if_requested(in.options.fault_kill, in.comm->rank(), index);

  started = PhaseClock::now();
  in.comm->set_position("lm_head", "write");
  in.sink->write_embedding_and_head(ends, &work->linears.front());
  report.write_seconds = seconds_since(started);
  spdlog::info("lm_head done: calibrate {:.2f}s, reduce {:.2f}s, compress {:.2f}s, write {:.2f}s",
               report.calibrate_seconds, report.reduce_seconds, report.compress_seconds, report.write_seconds);
  return report;
}

}  // namespace dcomp::pipeline
