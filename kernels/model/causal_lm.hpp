// CausalLM: a whole Llama-family causal language model in memory (embedding,
// every decoder layer, final norm, LM head) for generation and evaluation.
// The compression pipeline instead runs decoder_layer_forward one layer at a
// time; both paths use the same functions, so they agree exactly.
//
// reference: transformers/models/llama/modeling_llama.py (LlamaForCausalLM.forward).
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/model/decoder_layer_weights.hpp"
#include "kernels/model/embedding_and_head.hpp"
#include "kernels/model/kv_cache.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/rotary_embedding.hpp"
#include "kernels/model/weight_loading.hpp"

namespace dcomp::model {

class CausalLM {
 public:
  /// Reads <model_dir>/config.json and every weight. Linears come through
  /// `linear_loader` (plain safetensors when empty); a checkpoint whose config.json
  /// has a quantization_config needs a loader for its compressed format.
  static CausalLM load(const std::filesystem::path& model_dir, const LinearLoader& linear_loader = {});

  /// Assembles a model from weights already in memory; the layer count and the
  /// embedding shape are checked against `config`.
  CausalLM(ModelConfig config, EmbeddingAndHeadWeights embedding_and_head, std::vector<DecoderLayerWeights> layers);

  const ModelConfig& config() const { return config_; }
  const RotaryEmbedding& rope() const { return rope_; }
  int64_t num_layers() const { return static_cast<int64_t>(layers_.size()); }

  /// The weights of decoder layer `index`; std::out_of_range when there is none.
  const DecoderLayerWeights& layer(int64_t index) const;
  /// Replaces decoder layer `index` (e.g. with dequantized weights).
  void set_layer(int64_t index, DecoderLayerWeights weights);
  const EmbeddingAndHeadWeights& embedding_and_head() const { return embedding_and_head_; }

  /// token_ids [batch, seq] int64 at positions [0, seq) → hidden states after the
  /// last decoder layer, before the final norm: [batch, seq, hidden] fp32.
  at::Tensor final_hidden_states(const at::Tensor& token_ids) const;
  /// token_ids [batch, seq] int64 at positions [0, seq) → logits [batch, seq, vocab] fp32.
  at::Tensor forward(const at::Tensor& token_ids) const;
  /// token_ids [batch, seq] int64 at positions [cache.length(), cache.length() + seq)
  /// → logits [batch, seq, vocab] fp32; appends their keys and values to `cache`.
  at::Tensor forward(const at::Tensor& token_ids, KVCache& cache) const;
  /// An empty cache with one slot per decoder layer.
  KVCache make_cache() const { return KVCache(num_layers()); }

 private:
  ModelConfig config_;
  RotaryEmbedding rope_;
  EmbeddingAndHeadWeights embedding_and_head_;
  std::vector<DecoderLayerWeights> layers_;
};

}  // namespace dcomp::model
