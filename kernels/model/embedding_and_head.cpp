// reference: transformers/models/llama/modeling_llama.py (LlamaModel.forward: embed_tokens
// before the layers, norm after them; LlamaForCausalLM.forward: lm_head on the normed states).
#include "kernels/model/embedding_and_head.hpp"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

#include "kernels/model/linear.hpp"
#include "kernels/model/rms_norm.hpp"

namespace dcomp::model {

at::Tensor embed_tokens(const EmbeddingAndHeadWeights& weights, const at::Tensor& token_ids) {
  TORCH_CHECK(token_ids.dim() == 2, "token ids must be [batch, seq], got ", token_ids.sizes());
  const at::Tensor ids = token_ids.to(at::kLong);
  const int64_t vocab = weights.embed_tokens.size(0);
  if (ids.numel() > 0) {
    const int64_t smallest = ids.min().item<int64_t>();
    const int64_t largest = ids.max().item<int64_t>();
    if (smallest < 0 || largest >= vocab) {
      throw std::out_of_range("token id " + std::to_string(smallest < 0 ? smallest : largest) +
                              " is outside the model's vocabulary [0, " + std::to_string(vocab) + ")");
    }
  }
  const at::Tensor rows = at::embedding(weights.embed_tokens, ids);  // [batch, seq, hidden] as stored
  return rows.scalar_type() == at::kFloat ? rows : rows.to(at::kFloat);
}

at::Tensor lm_head_logits(const ModelConfig& config, const EmbeddingAndHeadWeights& weights, const at::Tensor& hidden) {
  const at::Tensor normed = rms_norm(hidden, weights.final_norm, config.rms_norm_eps);  // [B, S, hidden]
  return linear_forward({weights.lm_head, at::Tensor(), weights.lm_head_input_quantizer}, normed);  // [B, S, vocab]
}

}  // namespace dcomp::model
