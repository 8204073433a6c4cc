// Where the pipeline puts each finished layer (the compressed-tensors writer).
#pragma once

#include "kernels/model/decoder_layer_weights.hpp"
#include "kernels/model/embedding_and_head.hpp"
#include "lifecycle/layer_work.hpp"

namespace dcomp::actors {

class CheckpointSink {
 public:
  virtual ~CheckpointSink() = default;
  /// A decoder layer after compression: its Linears (compressed or plain) and norms.
  virtual void write_layer(const lifecycle::LayerWork& layer, const model::DecoderLayerWeights& weights) = 0;
  /// Embedding, final norm and (when not tied) the LM head, possibly compressed.
  virtual void write_embedding_and_head(const model::EmbeddingAndHeadWeights& weights,
                                        const lifecycle::LinearModule* compressed_head) = 0;
  /// Completes the checkpoint (config, index, rename into place).
  virtual void finish(const lifecycle::CompressionPlan& plan) = 0;
};


}  // namespace dcomp::actors
