// The safetensors writing of dcomp's synthetic models: tensors are collected per shard (the
// embedding, each decoder layer, the final norm and head) and written and freed shard by shard,
// so that a large model is made with about one layer in memory; a small one is one
// model.safetensors. Decoder Linear weights go through the model's SyntheticLinearStorage (dense
// by default; e.g. FP8 blocks with their scales, from kernels/ct/fp8_block_encoding.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/io/safetensors.hpp"
#include "kernels/model/synthetic_model.hpp"

namespace dcomp::model {

class SyntheticCheckpointWriter {
 public:
  /// `stored`: the dtype of every tensor not given another (the model's torch_dtype);
  /// `shard_count` 0: one model.safetensors, else that many shards and an index.
  SyntheticCheckpointWriter(std::filesystem::path directory, at::ScalarType stored, const SyntheticLinearStorage* linear,
                            int64_t shard_count);

  /// value: fp32, any shape → stored as the model's dtype.
  void add(const std::string& name, const at::Tensor& value);
  /// value: any dtype, stored as it is (e.g. DeepSeek's F32 e_score_correction_bias).
  void add_as_is(const std::string& name, const at::Tensor& value);
  /// weight: fp32 [out, in], "<module>.weight" of a decoder Linear → the linear storage's tensors.
  void add_linear(const std::string& name, const at::Tensor& weight);
  /// Writes the tensors added since the last shard as the next shard (sharded models only).
  void end_shard();
  /// Writes model.safetensors (or the last shard and the index).
  void finish();

 private:
  std::filesystem::path directory_;
  at::ScalarType stored_;
  const SyntheticLinearStorage* linear_;
  int64_t shard_count_, shard_ = 0;
  uint64_t total_bytes_ = 0;
  std::vector<io::NamedTensor> tensors_;
  std::map<std::string, std::string> weight_map_;
};

}  // namespace dcomp::model
