// This rank's calibration hidden states between decoder layers, and their files
// in a resumable run's saved progress. Each chunk of samples is stored in its own
// file named by the global index of its first sample, so a run resumed with a
// different number of ranks finds every chunk it now holds.
#pragma once

#include <filesystem>
#include <vector>

#include <ATen/core/Tensor.h>

#include "pipeline/calibration_data.hpp"
#include "kernels/model/embedding_and_head.hpp"

namespace dcomp::pipeline {

struct HiddenStates {
  /// Per chunk, batches of equal-length samples, each [batch, seq, hidden] fp32.
  std::vector<std::vector<at::Tensor>> chunks;
  std::vector<int64_t> samples_per_chunk;
};

/// Embeds this rank's samples: the hidden states entering decoder layer 0.
HiddenStates embed_samples(const CalibrationShard& data, const model::EmbeddingAndHeadWeights& weights);

/// Writes `<dir>/chunk-<first sample>.safetensors` for each of this rank's chunks,
/// synced to disk. `dir` is created when missing.
void save_hidden_states(const std::filesystem::path& dir, const CalibrationShard& data, const HiddenStates& hidden);

/// Reads the files save_hidden_states wrote for the chunks `data` holds (possibly
/// saved by other ranks), checking every batch's shape against the samples and
/// `hidden_size`. Throws std::runtime_error naming the file that is missing or wrong.
HiddenStates load_hidden_states(const std::filesystem::path& dir, const CalibrationShard& data, int64_t hidden_size);

}  // namespace dcomp::pipeline
