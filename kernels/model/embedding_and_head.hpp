// The ends of a causal language model around its decoder layers: token
// embedding lookup at the input, final RMSNorm and LM head at the output.
//
// reference: transformers/models/llama/modeling_llama.py (LlamaModel.embed_tokens,
// LlamaModel.norm, LlamaForCausalLM.lm_head).
#pragma once

#include <functional>

#include <ATen/core/Tensor.h>

#include "kernels/model/model_config.hpp"

namespace dcomp::model {

/// The weights outside the decoder layers.
struct EmbeddingAndHeadWeights {
  at::Tensor embed_tokens;  // [vocab, hidden] fp32 (or as stored: load_embedding_and_head's keep_stored_dtype)
  at::Tensor final_norm;    // [hidden] fp32
  at::Tensor lm_head;       // [vocab, hidden] as embed_tokens; the embed_tokens tensor itself when tied
  /// The input activation quantization a compressed lm_head declares (see
  /// LinearWeights::input_quantizer); empty when its inputs stay fp32.
  std::function<at::Tensor(const at::Tensor&)> lm_head_input_quantizer;
};

/// token_ids [batch, seq] int64 → hidden [batch, seq, hidden] fp32 (rows of a BF16 or
/// F16 table are converted after the lookup); an id outside
/// [0, vocab) is an std::out_of_range naming it.
at::Tensor embed_tokens(const EmbeddingAndHeadWeights& weights, const at::Tensor& token_ids);

/// hidden [batch, seq, hidden] fp32 → logits [batch, seq, vocab] fp32 (final norm, then LM head);
/// the head must be fp32 (load_embedding_and_head without keep_stored_dtype).
at::Tensor lm_head_logits(const ModelConfig& config, const EmbeddingAndHeadWeights& weights, const at::Tensor& hidden);

}  // namespace dcomp::model
