// The sink that writes the compressed-tensors checkpoint, on every rank at once:
// decoder layer i is written by rank i mod world size into its own shard
// (layer-<i>.safetensors, synced when the layer is done, so a resumed run keeps
// it), rank 0 writes the embedding and head; at the end the ranks exchange their
// shard lists and rank 0 writes the index and config.json and moves the folder
// into place, only after every rank has finished. Shards are numbered in layer
// order, so the checkpoint's bytes do not depend on the number of ranks. The
// output folder must be on a file system all ranks see (as for any multi-node
// checkpoint).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "pipeline/checkpoint_sink.hpp"
#include "kernels/comm/communicator.hpp"
#include "kernels/ct/checkpoint_writer.hpp"
#include "kernels/model/model_config.hpp"

namespace dcomp::pipeline {

class CompressedCheckpointSink final : public CheckpointSink {
 public:
  /// Starts writing `output` (in a temporary sibling folder) for the model in `source`;
  /// `recipe_text` is saved as recipe.yaml next to the weights. `resume_dir` (read on
  /// rank 0): the temporary folder of an interrupted run to continue in.
  CompressedCheckpointSink(const std::filesystem::path& source, const std::filesystem::path& output,
                           const model::ModelConfig& config, bool overwrite, std::string recipe_text,
                           comm::Communicator& comm, const std::optional<std::filesystem::path>& resume_dir = {});

  /// Whether finish() writes the plan's sparsity_config (see OneshotOptions::sparsity_config);
  /// without it a pruned model is written as a plain checkpoint.
  void write_sparsity_config(bool write) { write_sparsity_config_ = write; }

  /// The temporary folder every rank writes into.
  const std::filesystem::path& temporary_dir() const { return writer_->temporary_dir(); }

  at::ScalarType model_dtype() const override { return writer_->model_dtype(); }
  void write_layer(const lifecycle::LayerWork& layer, const model::DecoderLayerWeights& weights) override;
  void write_embedding_and_head(const model::EmbeddingAndHeadWeights& weights,
                                const lifecycle::LinearModule* compressed_head) override;
  void keep_on_failure() override;
  void discard_after_failure() override;
  void finish(const lifecycle::CompressionPlan& plan, const std::vector<ct::ShardRecord>& earlier_shards,
              const std::map<std::string, std::string>& files) override;

 private:
  void write_linear(const lifecycle::LinearModule& module);

  comm::Communicator& comm_;
  bool write_sparsity_config_ = false;
  std::unique_ptr<ct::CheckpointWriter> writer_;
  std::vector<ct::ShardRecord> written_shards_;  // this rank's, in writing order
  bool tied_embeddings_ = false;
  bool quantized_head_ = false;  // rank 0: the head was written quantized (its group gets "lm_head")
  std::string recipe_text_;
};

}  // namespace dcomp::pipeline
