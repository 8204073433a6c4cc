// Writes a compressed-tensors checkpoint folder that transformers, vLLM and
// compressed-tensors load: safetensors shards (+ index), config.json with the
// quantization_config, and the source model's tokenizer and generation files.
//
// Everything is written into a temporary sibling folder "<output>.tmp-<random>" and
// renamed into place by finish() after every file is flushed to disk, so the output
// folder either does not exist or is complete. On an exception, abort() or destruction
// before finish(), the temporary folder is removed.
//
// Tensors are buffered in memory until a shard is full (max_shard_bytes, 5 GB by
// default; transformers 5 defaults to 50 GB, llm-compressor to 20 GB, older transformers
// to 5 GB), then written; a tensor larger than the limit gets a shard of its own. One shard is named model.safetensors; several are
// model-0000i-of-0000N.safetensors with model.safetensors.index.json.
//
// reference: transformers modeling_utils.py save_pretrained (shard naming, index
// layout, {"format": "pt"} metadata); compressed-tensors model_compressor.py
// update_config (quantization_config in config.json, sort_keys, indent 2).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "kernels/ct/temporary_folder_lock.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/quant/compressed_weight.hpp"

namespace dcomp::ct {

/// A checkpoint that cannot be written; the message names the folder or tensor.
class CheckpointWriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CheckpointWriterOptions {
  /// Shard size limit in bytes of tensor data (5 GB = 5e9).
  uint64_t max_shard_bytes = 5'000'000'000ULL;
  /// Replace an existing output folder (otherwise an existing one is an error).
  bool overwrite = false;
  /// The dtype of untouched floating tensors, scales and biases; default: the source
  /// config.json "torch_dtype" / "dtype", else the source embedding's dtype, else F32.
  std::optional<at::ScalarType> model_dtype;
  /// Store pruned-only 2:4 weights in the legacy sparse-24-bitmask layout (removed in
  /// compressed-tensors 0.15; current loaders expect dense weights).
  bool legacy_sparse_24_bitmask = false;
  /// Distributed output: write into this existing temporary folder (created by
  /// the rank that finishes the checkpoint) instead of creating one; this writer
  /// then only ever removes its own shard files.
  std::optional<std::filesystem::path> shared_temporary_dir;
  /// Prefix of this writer's shard files inside the temporary folder (distinct per rank).
  std::string shard_prefix = "shard-";
  /// Resuming: continue in this existing temporary folder (left by an interrupted
  /// run) instead of creating one; the writer owns it as if it had created it.
  std::optional<std::filesystem::path> adopt_temporary_dir;
  /// Refuse (quant::NonFiniteError, naming the tensor) any floating tensor holding a NaN or
  /// an infinity as it is stored (after the conversion to the model dtype, which can
  /// overflow float16), and any FP8 tensor holding an E4M3 NaN.
  bool refuse_non_finite = false;
};

/// One shard file written into the temporary folder, and what it holds.
struct ShardRecord {
  std::string file;                  // name inside the temporary folder
  std::vector<std::string> tensors;  // tensor names it holds
  uint64_t bytes = 0;                // tensor data bytes
};

/// Files copied from the source model folder when present.
const std::vector<std::string>& copied_model_files();

class CheckpointWriter {
 public:
  /// Prepares writing `output_dir` for the model in `source_model_dir` (whose config.json
  /// must exist). Throws CheckpointWriteError when the output exists and overwrite is
  /// off, when it is the source folder, or when the temporary folder cannot be created.
  CheckpointWriter(std::filesystem::path output_dir, std::filesystem::path source_model_dir,
                   CheckpointWriterOptions options = {});
  /// Removes the temporary folder unless finish() completed.
  ~CheckpointWriter();
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  const std::filesystem::path& output_dir() const { return output_dir_; }
  const std::filesystem::path& temporary_dir() const { return temporary_dir_; }
  /// kFloat, kHalf or kBFloat16.
  at::ScalarType model_dtype() const { return model_dtype_; }

  /// Adds an untouched tensor (embedding, norm, lm_head, ...). Without `dtype`, floating
  /// tensors are stored in the model dtype and others as they are; with it, the tensor is
  /// converted (F8_E4M3 takes uint8 bit patterns as they are and converts floating values
  /// by rounding to nearest even, without saturation). A repeated name is an error.
  void add_tensor(const std::string& name, const at::Tensor& tensor, std::optional<io::DType> dtype = std::nullopt);

  /// Adds the tensors of compressed Linear `module_name` (see linear_encoding.hpp) and
  /// its bias (model dtype) when defined. `format` defaults to the one compressed-tensors
  /// infers from weight.weight_args / weight.input_args; it must match the format its
  /// config group declares.
  void add_compressed_linear(const std::string& module_name, const quant::CompressedWeight& weight,
                             const at::Tensor& bias = {}, const std::optional<std::string>& format = std::nullopt);

  /// Sets `key` of the written config.json to `value` (e.g. "tie_word_embeddings": false
  /// once lm_head is stored apart from the embedding).
  void set_config_entry(const std::string& key, nlohmann::json value);

  /// Writes a text file into the checkpoint folder (e.g. "recipe.yaml"). `name` is a plain
  /// file name; config.json, the safetensors files and the index are reserved.
  void add_file(const std::string& name, const std::string& contents);

  /// Writes the last shard, config.json (the source config with "quantization_config"
  /// set to `quantization_config` and, when non-null, its "sparsity_config" set to
  /// `sparsity_config`), copies copied_model_files(), syncs everything and renames the
  /// temporary folder to the output folder. A null quantization_config with a null
  /// sparsity_config writes the source config unchanged (an uncompressed model).
  void finish(const nlohmann::json& quantization_config, const nlohmann::json& sparsity_config = nullptr,
              const std::vector<ShardRecord>& other_shards = {});

  /// Distributed output, on the ranks that do not finish the checkpoint: writes
  /// the last shard, syncs this writer's shard files and returns them (for the
  /// finishing rank's finish(..., other_shards)). The folder is left in place.
  std::vector<ShardRecord> finish_shards();

  /// Writes every tensor added since the last shard into `<temporary folder>/<file_name>`
  /// now (synced to disk) and returns its record. The shard then belongs to the caller,
  /// who passes the record to finish(); abort() leaves the file alone.
  ShardRecord write_named_shard(const std::string& file_name);

  /// From now on abort() and the destructor keep the temporary folder (it holds the
  /// saved progress of a resumable run); only unwritten buffers are dropped.
  void keep_temporary_dir_on_abort() { keep_on_abort_ = true; }
  /// Undoes keep_temporary_dir_on_abort: abort() removes the folder again (when this writer
  /// owns it; one writing into a shared folder removes its own shards).
  void discard_temporary_dir_on_abort() { keep_on_abort_ = false; }

  /// Discards everything written so far (also done by the destructor).
  void abort() noexcept;

  bool finished() const { return finished_; }
  /// Tensor names added so far, sorted.
  std::vector<std::string> tensor_names() const;

 private:
  void append(io::NamedTensor tensor);
  void flush_shard();
  void write_config(const nlohmann::json& quantization_config, const nlohmann::json& sparsity_config) const;
  void move_into_place();

  std::filesystem::path output_dir_;
  std::filesystem::path source_dir_;
  std::filesystem::path temporary_dir_;
  CheckpointWriterOptions options_;
  nlohmann::json source_config_;
  nlohmann::json config_entries_ = nlohmann::json::object();  // set_config_entry's, applied over the source's
  at::ScalarType model_dtype_ = at::kFloat;

  std::vector<io::NamedTensor> pending_;
  uint64_t pending_bytes_ = 0;
  uint64_t total_bytes_ = 0;
  std::vector<std::filesystem::path> shard_files_;
  std::map<std::string, size_t> shard_of_tensor_;
  std::vector<uint64_t> shard_bytes_;
  bool owns_temporary_dir_ = true;
  std::unique_ptr<TemporaryFolderLock> lock_;  // held on a temporary folder this writer created or adopted
  bool keep_on_abort_ = false;
  std::set<std::string> names_;
  std::set<std::string> named_shards_;  // files handed out by write_named_shard
  std::vector<std::filesystem::path> extra_files_;
  bool finished_ = false;
};

}  // namespace dcomp::ct
