#include "kernels/model/synthetic_checkpoint_writer.hpp"

#include <ATen/ATen.h>

#include <cstdio>
#include <utility>

namespace dcomp::model {

SyntheticCheckpointWriter::SyntheticCheckpointWriter(std::filesystem::path directory, at::ScalarType stored,
                                                     const SyntheticLinearStorage* linear, int64_t shard_count)
    : directory_(std::move(directory)), stored_(stored), linear_(linear), shard_count_(shard_count) {}

void SyntheticCheckpointWriter::add(const std::string& name, const at::Tensor& value) {
  add_as_is(name, value.to(stored_).contiguous());
}

void SyntheticCheckpointWriter::add_as_is(const std::string& name, const at::Tensor& value) {
  total_bytes_ += static_cast<uint64_t>(value.nbytes());
  tensors_.push_back({name, value.contiguous(), std::nullopt});
}

void SyntheticCheckpointWriter::add_linear(const std::string& name, const at::Tensor& weight) {
  if (linear_ == nullptr || !linear_->encode) {
    add(name, weight);
    return;
  }
  for (io::NamedTensor& tensor : linear_->encode(name, weight)) {
    total_bytes_ += static_cast<uint64_t>(tensor.tensor.nbytes());
    tensors_.push_back(std::move(tensor));
  }
}

void SyntheticCheckpointWriter::end_shard() {
  if (shard_count_ == 0) return;
  char file[64];
  std::snprintf(file, sizeof file, "model-%05lld-of-%05lld.safetensors", static_cast<long long>(++shard_),
                static_cast<long long>(shard_count_));
  for (const auto& tensor : tensors_) weight_map_[tensor.name] = file;
  io::write_safetensors(directory_ / file, tensors_, {{"format", "pt"}});
  tensors_.clear();
}

void SyntheticCheckpointWriter::finish() {
  if (shard_count_ == 0) {
    io::write_safetensors(directory_ / "model.safetensors", tensors_, {{"format", "pt"}});
    tensors_.clear();
    return;
  }
  end_shard();
  io::write_safetensors_index(directory_ / "model.safetensors.index.json", weight_map_, total_bytes_);
}

}  // namespace dcomp::model
