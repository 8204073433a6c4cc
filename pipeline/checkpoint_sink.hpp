// Where the pipeline puts each finished layer (the compressed-tensors writer).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kernels/ct/checkpoint_writer.hpp"
#include "kernels/model/decoder_layer_weights.hpp"
#include "kernels/model/embedding_and_head.hpp"
#include "lifecycle/layer_work.hpp"

namespace dcomp::pipeline {

class CheckpointSink {
 public:
  virtual ~CheckpointSink() = default;
  /// The dtype floating tensors are stored in (the model's): quantization rounds as in it.
  virtual at::ScalarType model_dtype() const { return at::kFloat; }
  /// A decoder layer after compression: its Linears (compressed or plain) and norms.
  virtual void write_layer(const lifecycle::LayerWork& layer, const model::DecoderLayerWeights& weights) = 0;
  /// Embedding, final norm and the LM head: `compressed_head` when a modifier compressed
  /// it (then written apart from the embedding, the model untied), else the head when not tied.
  virtual void write_embedding_and_head(const model::EmbeddingAndHeadWeights& weights,
                                        const lifecycle::LinearModule* compressed_head) = 0;
  /// From now on a failure keeps what was written (a resumable run's saved progress).
  virtual void keep_on_failure() = 0;
  /// After a failure that recurs on every run of the same input (a NaN weight): removes this
  /// rank's part of what was written now, saved progress included, since resuming from it
  /// could only fail again.
  virtual void discard_after_failure() = 0;
  /// Completes the checkpoint (config, index, rename into place), adding
  /// `earlier_shards` (written by an interrupted run this one resumes) and `files`
  /// (name → contents, e.g. the run report).
  virtual void finish(const lifecycle::CompressionPlan& plan, const std::vector<ct::ShardRecord>& earlier_shards,
                      const std::map<std::string, std::string>& files) = 0;
};

}  // namespace dcomp::pipeline
