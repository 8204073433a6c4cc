// Statistics of a decoder layer's distinct Linear inputs gathered during its
// calibration pass: Σ 2·xᵀx (Hessian sums) and per-channel min/max.
//
// Hessians are computed with one fp32 GEMM per sample chunk and accumulated in
// fp64; the cross-rank sum is done in fp64 in rank order and only then cast to
// fp32. Rounding therefore does not depend on how chunks are spread over ranks.
// reference: llm-compressor modifiers/gptq/gptq_quantize.py (accumulate_hessian,
//            "sum, then divide once"); smoothquant/base.py (per-channel ranges)
#pragma once

#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/comm/communicator.hpp"
#include "pipeline/hessian_queue.hpp"
#include "kernels/model/layer_layout.hpp"
#include "kernels/model/linear.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/sparse_moe.hpp"
#include "lifecycle/layer_work.hpp"

namespace dcomp::pipeline {


/// The input key of a Linear of one layer (the key of the input it shares, LayerInput::key):
/// q/k/v → "model.layers.<i>.input_layernorm", gate/up and the router →
/// "model.layers.<i>.post_attention_layernorm", o_proj / down_proj → their own name, an
/// expert's gate/up → "model.layers.<i>.mlp.experts.<e>.gate_proj".
std::string input_key(int layer_index, const model::LayerLayout& layout, const std::string& relative_linear);

/// sum64 [in, in] fp64 += 2·xᵀx for tokens x [tokens, in] fp32: one fp32 GEMM
/// (2·tokens·in² FLOPs, the full product) and one fp64 accumulation.
void accumulate_hessian(at::Tensor& sum64, const at::Tensor& tokens);

/// One distinct Linear input whose statistics are gathered: its key, the full names of
/// the Linears reading it, its width, and for an expert's input, the expert.
struct StatisticsInput {
  std::string key;
  std::vector<std::string> consumers;
  int64_t in_features = 0;
  int expert = -1;
};

/// The inputs of decoder layer `layer_index` as its layout lists them (dense: q/k/v, o_proj,
/// gate/up, down_proj; sparse: q/k/v, o_proj, the router's, and two per expert). With
/// `experts_read_router_input` (every calibration token through every expert), the experts'
/// gate/up read the router's input: they join its readers, and one Hessian serves them all.
std::vector<StatisticsInput> decoder_layer_inputs(int layer_index, const model::LayerLayout& layout,
                                                  bool experts_read_router_input = false);

/// The key of the input `relative_linear` reads during calibration: input_key, except that an
/// expert's gate/up reads the router's input when every token goes through every expert.
std::string calibration_input_key(int layer_index, const model::LayerLayout& layout, const std::string& relative_linear,
                                  bool experts_read_router_input);

/// The input of lm_head, model.norm's output: key "model.norm", width hidden_size.
std::vector<StatisticsInput> lm_head_inputs(const model::ModelConfig& config);

class LayerStatistics {
 public:
  /// Every input of the layer gets zeroed statistics up front, so that a rank
  /// without samples still takes part in every collective. They live on `device`,
  /// where the calibration pass runs.
  LayerStatistics(int layer_index, const model::LayerLayout& layout, bool hessians, bool channel_ranges,
                  c10::Device device = c10::kCPU, bool experts_read_router_input = false);
  /// The same for explicitly listed inputs (e.g. lm_head_inputs); observe them with observe_input.
  LayerStatistics(int layer_index, const std::vector<StatisticsInput>& inputs, bool hessians, bool channel_ranges,
                  c10::Device device = c10::kCPU);

  /// Also gathers, from the next observation on, Σ|x| per channel (`abs_sums`, summed over
  /// ranks like the Hessians) and this rank's inputs themselves (`cache_inputs`, one host
  /// tensor per batch): what AWQ's grid search needs.
  void collect_activation_sums_and_inputs(bool abs_sums, bool cache_inputs);
  /// The hook to pass to decoder_layer_forward during calibration.
  const model::LinearInputHook& hook() const { return hook_; }
  /// How a sparse layer's experts are observed (every token through every expert when the
  /// statistics were built with experts_read_router_input, else the routed ones); it also counts
  /// the tokens routed to each expert.
  const model::ExpertCalibration& expert_calibration();
  /// Reduces the Hessian sums of each expert input to the rank `owners` names (input key →
  /// rank) instead of all-reducing them: only the owner, which solves the expert's Linears,
  /// holds them afterwards. Inputs not listed are all-reduced.
  void reduce_to_owners(std::map<std::string, int> owners) { owners_ = std::move(owners); }
  /// Observes x [tokens, in] fp32 contiguous as input `key` (ignored when not listed).
  void observe_input(const std::string& key, const at::Tensor& x);
  /// Ends one sample chunk: one GEMM per input over the chunk's buffered tokens,
  /// through `queue` when given (the caller must drain it before all_reduce / fill).
  void end_chunk(int64_t samples_in_chunk, HessianQueue* queue = nullptr);
  /// Sums (Hessians, counts) and min/max (ranges) over ranks, in key order.
  void all_reduce(comm::Communicator& comm);
  /// Moves the statistics into the layer's InputStatistics (Hessians as fp32), in host memory.
  void fill(lifecycle::LayerWork& layer);
  /// Bytes of the buffers this layer's reduction hands to collectives on each rank (for reports).
  int64_t reduced_bytes() const { return reduced_bytes_; }
  /// Of those, the Hessian sums reduced to one owner rather than all-reduced.
  int64_t owner_reduced_bytes() const { return owner_reduced_bytes_; }

 private:
  struct Accumulator {
    std::vector<std::string> consumers;  // full Linear names
    int64_t in_features = 0;
    std::vector<at::Tensor> pending;     // [tokens, in] fp32 of the current chunk
    at::Tensor hessian_sum;              // [in, in] fp64
    at::Tensor channel_min, channel_max; // [in] fp32
    at::Tensor channel_abs_sum;          // [in] fp64
    std::vector<at::Tensor> cached;      // [tokens, in] fp32 per batch, host
    int64_t num_samples = 0;
    int64_t num_tokens = 0;
  };

  int layer_index_;
  bool hessians_;
  bool channel_ranges_;
  bool cache_inputs_ = false;
  bool abs_sums_ = false;
  c10::Device device_ = c10::kCPU;
  std::map<std::string, Accumulator> inputs_;
  std::map<std::string, std::string> key_of_reader_;  // relative Linear name → input key
  model::LinearInputHook hook_;
  model::ExpertCalibration expert_calibration_;
  at::Tensor routed_tokens_;  // [E] int64: tokens routed to each expert (sparse layers)
  std::map<std::string, int> owners_;
  int64_t reduced_bytes_ = 0;
  int64_t owner_reduced_bytes_ = 0;
};

}  // namespace dcomp::pipeline
