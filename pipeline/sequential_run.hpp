// The sequential (layer-by-layer) pipeline of a one-shot run, per rank:
//   CALIBRATION_START
//   for each decoder layer: load only its weights → calibration pass over this
//     rank's samples (statistics hooks) → reduce statistics over ranks →
//     SEQUENTIAL_EPOCH_END (modifiers compress, solves spread over ranks) →
//     propagation pass with the compressed weights → hand the layer to the sink
//   when a modifier selects lm_head: the final norm and lm_head as one more subgraph
//     (statistics of model.norm's output, SEQUENTIAL_EPOCH_END for lm_head alone)
//   CALIBRATION_END
// Every lifecycle event goes through the run's LifecycleCalls (in a dcomp process, the
// coordinator actor). Memory stays at one layer's weights and statistics plus this rank's
// hidden states.
// reference: llm-compressor src/llmcompressor/pipelines/sequential/pipeline.py
#pragma once

#include <vector>

#include "kernels/comm/communicator.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/weight_loading.hpp"
#include "lifecycle/layer_work.hpp"
#include "pipeline/calibration_data.hpp"
#include "pipeline/checkpoint_sink.hpp"
#include "pipeline/driver_services.hpp"
#include "pipeline/layer_report.hpp"
#include "pipeline/pipeline_options.hpp"
#include "pipeline/run_progress.hpp"

namespace dcomp::pipeline {

struct PipelineInputs {
  const model::ModelConfig* config = nullptr;
  const io::CheckpointReader* reader = nullptr;
  model::LinearLoader linear_loader;               // empty: plain safetensors
  LifecycleCalls* lifecycle = nullptr;
  comm::Communicator* comm = nullptr;
  const CalibrationShard* data = nullptr;          // null: data-free (no forward passes)
  const lifecycle::CompressionPlan* plan = nullptr;
  CheckpointSink* sink = nullptr;
  RunProgress* progress = nullptr;                 // saves progress after each layer; null: none
  DriverServices* services = nullptr;              // starts the overlap helpers (none: no overlap)
  PipelineOptions options;
};

std::vector<LayerReport> run_sequential_pipeline(const PipelineInputs& inputs);

}  // namespace dcomp::pipeline
