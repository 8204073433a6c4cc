// reference: transformers/models/llama/modeling_llama.py (LlamaModel.forward, LlamaForCausalLM.forward).
#include "kernels/model/causal_lm.hpp"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

#include "kernels/io/safetensors.hpp"
#include "kernels/model/decoder_layer.hpp"

namespace dcomp::model {

CausalLM CausalLM::load(const std::filesystem::path& model_dir, const LinearLoader& linear_loader) {
  ModelConfig config = ModelConfig::from_dir(model_dir);
  if (config.has_quantization_config() && !linear_loader) {
    throw ModelConfigError(config.source.string() +
                           ": has a quantization_config (a compressed checkpoint); plain safetensors loading "
                           "cannot read it");
  }
  const io::CheckpointReader reader(model_dir);
  EmbeddingAndHeadWeights embedding_and_head = load_embedding_and_head(reader, config, linear_loader);
  std::vector<DecoderLayerWeights> layers;
  layers.reserve(static_cast<size_t>(config.num_hidden_layers));
  for (int64_t index = 0; index < config.num_hidden_layers; ++index) {
    layers.push_back(load_decoder_layer(reader, config, static_cast<int>(index), linear_loader));
  }
  return CausalLM(std::move(config), std::move(embedding_and_head), std::move(layers));
}

CausalLM::CausalLM(ModelConfig config, EmbeddingAndHeadWeights embedding_and_head, std::vector<DecoderLayerWeights> layers)
    : config_(std::move(config)),
      rope_(config_),
      embedding_and_head_(std::move(embedding_and_head)),
      layers_(std::move(layers)) {
  if (static_cast<int64_t>(layers_.size()) != config_.num_hidden_layers) {
    throw ModelConfigError(config_.source.string() + " has num_hidden_layers " +
                           std::to_string(config_.num_hidden_layers) + " but " + std::to_string(layers_.size()) +
                           " decoder layers were given");
  }
  const auto& embedding = embedding_and_head_.embed_tokens;
  if (!embedding.defined() || embedding.dim() != 2 || embedding.size(0) != config_.vocab_size ||
      embedding.size(1) != config_.hidden_size || !embedding_and_head_.final_norm.defined() ||
      !embedding_and_head_.lm_head.defined()) {
    throw ModelConfigError("the embedding and head weights given do not match " + config_.source.string() +
                           " (embed_tokens must be [vocab_size, hidden_size]; final_norm and lm_head are required)");
  }
}

const DecoderLayerWeights& CausalLM::layer(int64_t index) const {
  if (index < 0 || index >= num_layers()) {
    throw std::out_of_range("decoder layer " + std::to_string(index) + " does not exist (the model has " +
                            std::to_string(num_layers()) + ")");
  }
  return layers_[static_cast<size_t>(index)];
}

void CausalLM::set_layer(int64_t index, DecoderLayerWeights weights) {
  layer(index);  // range check
  layers_[static_cast<size_t>(index)] = std::move(weights);
}

at::Tensor CausalLM::final_hidden_states(const at::Tensor& token_ids) const {
  at::Tensor hidden = embed_tokens(embedding_and_head_, token_ids);  // [B, S, hidden]
  for (const auto& layer : layers_) hidden = decoder_layer_forward(config_, layer, hidden, rope_);
  return hidden;
}

at::Tensor CausalLM::forward(const at::Tensor& token_ids) const {
  return lm_head_logits(config_, embedding_and_head_, final_hidden_states(token_ids));
}

at::Tensor CausalLM::forward(const at::Tensor& token_ids, KVCache& cache) const {
  if (static_cast<int64_t>(cache.layers.size()) != num_layers()) {
    throw std::invalid_argument("KV cache has " + std::to_string(cache.layers.size()) + " layers, the model " +
                                std::to_string(num_layers()));
  }
  at::Tensor hidden = embed_tokens(embedding_and_head_, token_ids);  // [B, S, hidden]
  for (size_t index = 0; index < layers_.size(); ++index) {
    hidden = decoder_layer_forward_cached(config_, layers_[index], hidden, rope_, cache.layers[index]);
  }
  return lm_head_logits(config_, embedding_and_head_, hidden);
}

}  // namespace dcomp::model
