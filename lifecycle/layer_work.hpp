// What the sequential pipeline hands to modifiers at SEQUENTIAL_EPOCH_END for
// one decoder layer (kwargs["layer"]), and what modifiers declare up front
// (kwargs["plan"] at initialize): the statistics they need collected and the
// quantization config they will produce.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "kernels/comm/communicator.hpp"
#include "kernels/model/layer_layout.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/rotary_embedding.hpp"
#include "kernels/quant/compressed_weight.hpp"
#include "kernels/quant/quant_args.hpp"

namespace dcomp::lifecycle {

/// Statistics of one distinct Linear input of a layer, summed over every rank
/// and sample (q/k/v share one input, gate/up share one).
struct InputStatistics {
  std::vector<std::string> consumers;  // full Linear names reading this input
  at::Tensor hessian_sum;              // [in, in] fp32: Σ 2·xᵀx over all tokens (when requested)
  int64_t num_samples = 0;             // calibration sequences seen
  int64_t num_tokens = 0;
  at::Tensor channel_min;  // [in] fp32 per input channel (when requested)
  at::Tensor channel_max;  // [in] fp32
  at::Tensor channel_abs_sum;  // [in] fp64: Σ |x| over all tokens (when requested; AWQ's activation means)
  /// This rank's calibration inputs, one [tokens, in] fp32 tensor per batch, in batch order
  /// (when requested; AWQ's grid search replays them). Batch b has LayerWork::batch_shapes[b].
  std::vector<at::Tensor> cached;
};

/// Per calibration sample, in global sample order: the smallest and largest value of the
/// layer's attention keys (after q/k norm and RoPE, as the KV cache holds them) and values.
struct KeyValueRanges {
  std::vector<float> key_min, key_max, value_min, value_max;
  bool empty() const { return key_min.empty(); }
};

/// Runs job(0), ..., job(count − 1) (in any order, possibly concurrently) and returns when all
/// are done; throws when one failed.
using ParallelFor = std::function<void(size_t count, const std::function<void(size_t)>& job)>;

struct LinearModule {
  std::string name;      // "model.layers.3.self_attn.q_proj"
  at::Tensor weight;     // [out, in] fp32; modifiers replace it with the compressed result
  at::Tensor bias;       // [out] fp32 or undefined
  std::string input;     // key into LayerWork::inputs
  /// Its classes as recipe targets see them ({"Linear"}, or the router's class); empty: derived
  /// from the name (lifecycle::linear_module_info).
  std::vector<std::string> class_names;
  std::optional<quant::CompressedWeight> compressed;  // set by quantization / pruning modifiers
};

/// Where GPTQ and SparseGPT solve a layer's modules.
struct SolvePlacement {
  /// false: the host loops (GPTQ's AVX-512 column loop, SparseGPT's row loop), on host tensors. true: the same
  /// arithmetic in ATen tensor operations on `device` (the rank's GPU with --device cuda; on
  /// the CPU with --solver tensor, where it gives the same checkpoint as the host loops).
  bool tensor_ops = false;
  c10::Device device = c10::Device(c10::kCPU);
};

struct LayerWork {
  int layer_index = 0;
  /// The dtype the checkpoint stores the model's floating tensors in (kFloat, kBFloat16 or
  /// kHalf): quantization computes scales, zero points and codes as compressed-tensors does on
  /// a model of that dtype (QuantizationArgs::model_dtype). The Linears' weights are still fp32.
  at::ScalarType model_dtype = at::kFloat;
  std::vector<LinearModule> linears;                 // model order
  std::map<std::string, InputStatistics> inputs;     // by input key
  /// The layer's description: its Linears, inputs and other tensors (model::LayerLayout).
  std::shared_ptr<const model::LayerLayout> layout;
  /// The norms smoothing modifiers may rescale (LayerLayout::smoothable_norms):
  /// "model.layers.3.input_layernorm" → [hidden] fp32.
  std::map<std::string, at::Tensor> norm_weights;
  /// The layer's other tensors (model::LayerParameter), carried unchanged:
  /// "model.layers.3.self_attn.q_norm.weight", "model.layers.3.self_attn.kv_a_layernorm.weight" → fp32.
  std::map<std::string, at::Tensor> parameters;
  KeyValueRanges key_value_ranges;                   // when the plan asks for them (KV-cache quantization)
  /// Running parts of the layer's forward (AWQ's grid search): the model's config and rotary
  /// tables, and the [batch, seq] shape of each calibration batch of this rank whose inputs are cached.
  const model::ModelConfig* config = nullptr;
  const model::RotaryEmbedding* rope = nullptr;
  std::vector<std::pair<int64_t, int64_t>> batch_shapes;
  /// Sparse layers: the calibration tokens the router sent to each expert, summed over ranks
  /// (empty for dense layers and data-free runs).
  std::vector<int64_t> expert_tokens;
  /// Inputs whose Hessian sum only one rank holds (it was reduced to that rank, which solves
  /// every Linear reading it): input key → rank. Inputs not listed are held by every rank.
  std::map<std::string, int> input_owner;
  /// Attention tensors modifiers produce: "model.layers.3.self_attn.k_scale" → fp32 [1].
  std::map<std::string, at::Tensor> attention_scales;
  comm::Communicator* comm = nullptr;                // for spreading solves over ranks (may be single)
  /// Runs a layer's independent solves (each with one compute thread) on `solve_workers`
  /// workers, concurrently when there are several; empty: on the caller's thread.
  ParallelFor parallel_for;
  int solve_workers = 1;
  SolvePlacement solve;
  /// parallel_for when set, else a plain loop.
  void for_each(size_t count, const std::function<void(size_t)>& job) const;

  LinearModule* find(const std::string& name);
  const LinearModule* find(const std::string& name) const;
  /// The module's input statistics; throws when absent.
  InputStatistics& input_of(const LinearModule& module);
};

/// Declared by modifiers during initialize; read by the pipeline.
struct CompressionPlan {
  bool needs_hessians = false;
  bool needs_channel_ranges = false;
  bool needs_key_value_ranges = false;
  bool needs_channel_abs_sums = false;
  bool needs_cached_inputs = false;
  /// Whether any statistic above needs the calibration samples run through the layers.
  bool needs_calibration_pass() const {
    return needs_hessians || needs_channel_ranges || needs_key_value_ranges || needs_channel_abs_sums ||
           needs_cached_inputs;
  }
  /// The recipe's kv_cache_scheme (FP8 per-tensor K and V scales), written to the config.
  std::optional<quant::QuantizationArgs> kv_cache_scheme;
  /// A modifier selects lm_head: after the last decoder layer the pipeline runs the
  /// final norm and lm_head as one more subgraph (a LayerWork holding only lm_head,
  /// whose input statistics are those of model.norm's output).
  bool compresses_lm_head = false;
  /// Module → the quantizing modifier (its number in recipe order) that quantizes its
  /// weights: the last one that selects it, so that a GPTQModifier after a
  /// QuantizationModifier solves the modules both select, from the original weights.
  std::map<std::string, int> weight_quantizer;
  int quantizing_modifiers = 0;
  /// Quantization config groups ("group_0", ...) and the modules left unquantized.
  std::vector<std::pair<std::string, quant::QuantizationScheme>> quantization_groups;
  std::vector<std::string> quantization_ignore;
  /// compressed-tensors sparsity_config (empty object when nothing is pruned).
  nlohmann::json sparsity_config = nlohmann::json::object();
};

}  // namespace dcomp::lifecycle
