#include "pipeline/calibration_data.hpp"

#include <algorithm>

namespace dcomp::pipeline {

std::pair<size_t, size_t> rank_chunk_range(size_t num_chunks, int rank, int world_size) {
  const size_t r = static_cast<size_t>(rank);
  const size_t w = static_cast<size_t>(std::max(world_size, 1));
  return {num_chunks * r / w, num_chunks * (r + 1) / w};
}

CalibrationShard::CalibrationShard(const std::vector<std::vector<int32_t>>& all_samples, size_t chunk_size, int rank,
                                   int world_size)
    : total_samples_(all_samples.size()) {
  chunk_size = std::max<size_t>(chunk_size, 1);
  const size_t num_chunks = (all_samples.size() + chunk_size - 1) / chunk_size;
  auto [begin, end] = rank_chunk_range(num_chunks, rank, world_size);
  for (size_t c = begin; c < end; ++c) {
    SampleChunk chunk;
    chunk.first_sample = c * chunk_size;
    for (size_t s = chunk.first_sample; s < std::min(all_samples.size(), chunk.first_sample + chunk_size); ++s) {
      chunk.samples.push_back(all_samples[s]);
    }
    local_samples_ += chunk.samples.size();
    chunks_.push_back(std::move(chunk));
  }
}

size_t CalibrationShard::local_tokens() const {
  size_t tokens = 0;
  for (const auto& chunk : chunks_) {
    for (const auto& sample : chunk.samples) tokens += sample.size();
  }
  return tokens;
}

}  // namespace dcomp::pipeline
