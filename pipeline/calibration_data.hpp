// Calibration samples sharded over ranks. Samples are grouped in fixed chunks
// by global index and whole chunks are dealt to ranks contiguously, so every
// chunk is processed identically whatever the number of ranks (the basis of
// results that do not depend on the rank count).
#pragma once

#include <cstdint>
#include <vector>

#include "lifecycle/model_handle.hpp"

namespace dcomp::pipeline {

struct SampleChunk {
  size_t first_sample = 0;                      // global index of its first sample
  std::vector<std::vector<int32_t>> samples;    // token ids, BOS first
};

class CalibrationShard final : public lifecycle::CalibrationSet {
 public:
  /// Keeps this rank's chunks of `all_samples` (chunk_size samples per chunk).
  CalibrationShard(const std::vector<std::vector<int32_t>>& all_samples, size_t chunk_size, int rank, int world_size);
  size_t local_samples() const override { return local_samples_; }
  size_t total_samples() const override { return total_samples_; }
  const std::vector<SampleChunk>& chunks() const { return chunks_; }
  size_t local_tokens() const;

 private:
  std::vector<SampleChunk> chunks_;
  size_t local_samples_ = 0;
  size_t total_samples_ = 0;
};

/// The half-open range of chunk indices [begin, end) that `rank` holds.
std::pair<size_t, size_t> rank_chunk_range(size_t num_chunks, int rank, int world_size);

}  // namespace dcomp::pipeline
