// The sequential (layer-by-layer) pipeline of a one-shot run, per rank:
//   CALIBRATION_START
//   for each decoder layer: load only its weights → calibration pass over this
//     rank's samples (statistics hooks) → reduce statistics over ranks →
//     SEQUENTIAL_EPOCH_END (modifiers compress, solves spread over ranks) →
//     propagation pass with the compressed weights → hand the layer to the sink
//   when a modifier selects lm_head: the final norm and lm_head as one more subgraph
//     (statistics of model.norm's output, SEQUENTIAL_EPOCH_END for lm_head alone)
//   CALIBRATION_END
// Every lifecycle event goes through the coordinator actor. Memory stays at one
// layer's weights and statistics plus this rank's hidden states.
// reference: llm-compressor src/llmcompressor/pipelines/sequential/pipeline.py
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <vector>

#include "pipeline/calibration_data.hpp"
#include "pipeline/checkpoint_sink.hpp"
#include "actors/lifecycle_client.hpp"
#include "pipeline/run_progress.hpp"
#include <caf/actor_system.hpp>
#include "kernels/comm/communicator.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/weight_loading.hpp"
#include "pipeline/fault_injection.hpp"

namespace dcomp::actors {

/// Output error of one module on the calibration inputs, ‖(W − Ŵ)X‖²_F, for the
/// compressed weight and for round-to-nearest with the same arguments.
struct ModuleError {
  std::string name;
  double compressed = 0;
  double round_to_nearest = 0;
};

struct LayerReport {
  int layer = 0;
  double load_seconds = 0;
  double calibrate_seconds = 0;
  double reduce_seconds = 0;
  double compress_seconds = 0;
  double propagate_seconds = 0;
  double write_seconds = 0;
  int64_t reduced_bytes = 0;
  /// Of reduced_bytes, the expert Hessian sums reduced to their owner rank only.
  int64_t owner_reduced_bytes = 0;
  /// Sparse layers: calibration tokens the router sent to each expert (all ranks).
  std::vector<int64_t> expert_tokens;
  std::vector<ModuleError> errors;
  std::vector<nlohmann::json> modifier_results;  // what each modifier reported for this layer
};

struct PipelineOptions {
  /// Samples per chunk (one Hessian GEMM per chunk; chunks are never split across ranks).
  size_t chunk_size = 4;
  /// Also quantize with round-to-nearest and report both output errors.
  bool compare_round_to_nearest = false;
  /// Overlap: prefetch layer i+1 while layer i is processed, and (on a GPU, or with
  /// cores to spare) run each chunk's Hessian GEMM while the next chunk's forward pass runs.
  bool overlap = true;
  /// Hessian jobs queued at most (bounds the tokens held for the worker).
  size_t max_hessian_jobs_in_flight = 8;
  /// Where the forward passes, Hessian GEMMs and statistics reductions run. The
  /// modifiers' solves run on the host, on host copies of the layer's weights and
  /// statistics.
  c10::Device device = c10::kCPU;
  /// On a GPU: the share of its free memory the hidden states may take before they
  /// are kept in pinned host memory instead.
  double hidden_state_budget_fraction = 0.5;
  /// With several compute threads per rank: solve a layer's modules concurrently, one compute
  /// thread each, on as many worker actors as the rank has threads (false: one after another on
  /// one worker, also with one thread each; the results are the same).
  bool parallel_solves = true;
  /// Which GPTQ / SparseGPT loops solve (--solver): Auto is the host loops (GPTQ's AVX-512) with --device cpu and
  /// the ATen tensor-ops loop on the rank's GPU with --device cuda; Host forces the former
  /// (GPU runs then copy each layer to the host for its solves); TensorOps the latter, also on
  /// the CPU, where it writes the same checkpoint as the host loop (the GPU path's check).
  enum class SolveLoop { Auto, Host, TensorOps };
  SolveLoop solve_loop = SolveLoop::Auto;
  /// Sparse layers: every calibration token goes through every expert for the statistics
  /// (the layer's output keeps the router's choice), as llm-compressor's
  /// moe_calibrate_all_experts (default true); false: each expert sees its routed tokens.
  bool moe_calibrate_all_experts = true;
  /// Sparse layers: warn about experts the router sent fewer calibration tokens than this.
  int64_t moe_min_expert_tokens = 16;
  /// Sparse layers on several ranks: reduce each expert's Hessian sums only to the rank that
  /// solves it (false: all-reduce every sum, as for dense layers).
  bool moe_reduce_to_owner = true;
  /// The resume tests' hook: this rank dies with SIGKILL after compressing this layer (see
  /// pipeline/fault_injection.hpp).
  std::optional<pipeline::FaultKill> fault_kill;
};

struct PipelineInputs {
  const model::ModelConfig* config = nullptr;
  const io::CheckpointReader* reader = nullptr;
  model::LinearLoader linear_loader;             // empty: plain safetensors
  LifecycleClient* lifecycle = nullptr;
  comm::Communicator* comm = nullptr;
  const pipeline::CalibrationShard* data = nullptr;        // null: data-free (no forward passes)
  const lifecycle::CompressionPlan* plan = nullptr;
  pipeline::CheckpointSink* sink = nullptr;
  pipeline::RunProgress* progress = nullptr;               // saves progress after each layer; null: none
  caf::actor_system* system = nullptr;           // for the overlap workers (none: no overlap)
  PipelineOptions options;
};

std::vector<LayerReport> run_sequential_pipeline(const PipelineInputs& inputs);

}  // namespace dcomp::actors
