// The settings of the sequential pipeline (pipeline/sequential_run.hpp): chunking, overlap,
// the device, where the solves run, how sparse layers calibrate, and the resume tests' hook.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include <c10/core/Device.h>

#include "pipeline/fault_injection.hpp"

namespace dcomp::pipeline {

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
  std::optional<FaultKill> fault_kill;
};

}  // namespace dcomp::pipeline
