#include "pipeline/hidden_states.hpp"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

#include "kernels/io/durable_files.hpp"
#include "kernels/io/safetensors.hpp"

namespace dcomp::pipeline {
namespace {

/// Consecutive samples of equal length form one batch: [first, first + count).
struct BatchSpan {
  size_t first = 0;
  size_t count = 0;
  int64_t length = 0;
};

std::vector<BatchSpan> batch_spans(const SampleChunk& chunk) {
  std::vector<BatchSpan> spans;
  size_t start = 0;
  while (start < chunk.samples.size()) {
    size_t stop = start + 1;
    while (stop < chunk.samples.size() && chunk.samples[stop].size() == chunk.samples[start].size()) ++stop;
    spans.push_back({start, stop - start, static_cast<int64_t>(chunk.samples[start].size())});
    start = stop;
  }
  return spans;
}

std::filesystem::path chunk_file(const std::filesystem::path& dir, const SampleChunk& chunk) {
  return dir / ("chunk-" + std::to_string(chunk.first_sample) + ".safetensors");
}

std::string batch_name(size_t index) { return "batch." + std::to_string(index); }

}  // namespace

HiddenStates embed_samples(const CalibrationShard& data, const model::EmbeddingAndHeadWeights& weights) {
  HiddenStates hidden;
  for (const auto& chunk : data.chunks()) {
    std::vector<at::Tensor> batches;
    for (const BatchSpan& span : batch_spans(chunk)) {
      const int64_t batch = static_cast<int64_t>(span.count);
      at::Tensor ids = at::empty({batch, span.length}, at::kLong);  // [batch, seq] int64
      auto accessor = ids.accessor<int64_t, 2>();
      for (int64_t b = 0; b < batch; ++b) {
        const auto& sample = chunk.samples[span.first + static_cast<size_t>(b)];
        for (int64_t t = 0; t < span.length; ++t) accessor[b][t] = sample[static_cast<size_t>(t)];
      }
      batches.push_back(model::embed_tokens(weights, ids));
    }
    hidden.chunks.push_back(std::move(batches));
    hidden.samples_per_chunk.push_back(static_cast<int64_t>(chunk.samples.size()));
  }
  return hidden;
}

void save_hidden_states(const std::filesystem::path& dir, const CalibrationShard& data, const HiddenStates& hidden) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw std::runtime_error(dir.string() + ": cannot create the folder: " + error.message());
  for (size_t c = 0; c < data.chunks().size(); ++c) {
    std::vector<io::NamedTensor> tensors;
    for (size_t b = 0; b < hidden.chunks[c].size(); ++b) tensors.push_back({batch_name(b), hidden.chunks[c][b], {}});
    const auto path = chunk_file(dir, data.chunks()[c]);
    io::write_safetensors(path, tensors);
    io::sync_path(path, /*directory=*/false);
  }
  io::sync_path(dir, /*directory=*/true);
}

HiddenStates load_hidden_states(const std::filesystem::path& dir, const CalibrationShard& data, int64_t hidden_size) {
  HiddenStates hidden;
  for (const auto& chunk : data.chunks()) {
    const auto path = chunk_file(dir, chunk);
    if (!std::filesystem::is_regular_file(path)) {
      throw std::runtime_error(path.string() + ": missing from the saved progress (was it saved with other "
                               "calibration settings?)");
    }
    const auto file = io::SafetensorsFile::open(path);
    const std::vector<BatchSpan> spans = batch_spans(chunk);
    if (file->names().size() != spans.size()) {
      throw std::runtime_error(path.string() + ": holds " + std::to_string(file->names().size()) +
                               " batch(es), the samples form " + std::to_string(spans.size()));
    }
    std::vector<at::Tensor> batches;
    for (size_t b = 0; b < spans.size(); ++b) {
      const std::string name = batch_name(b);
      if (!file->contains(name)) throw std::runtime_error(path.string() + ": no tensor \"" + name + "\"");
      const at::Tensor stored = file->tensor(name);
      const std::vector<int64_t> expected{static_cast<int64_t>(spans[b].count), spans[b].length, hidden_size};
      if (stored.scalar_type() != at::kFloat || stored.sizes().vec() != expected) {
        throw std::runtime_error(path.string() + ": tensor \"" + name + "\" is not fp32 of the samples' shape");
      }
      batches.push_back(stored.clone());  // owned: the saved file may be deleted later
    }
    hidden.chunks.push_back(std::move(batches));
    hidden.samples_per_chunk.push_back(static_cast<int64_t>(chunk.samples.size()));
  }
  return hidden;
}

}  // namespace dcomp::pipeline
