// safetensors files: memory-mapped, validated reading and a conforming writer.
//
// Format (https://github.com/huggingface/safetensors): u64 little-endian header
// length N, then N bytes of JSON {name: {dtype, shape, data_offsets:[begin,end]},
// "__metadata__": {str: str}}, then the data area; offsets are relative to the
// start of the data area.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace dcomp::io {

/// The element types a safetensors file may hold here.
enum class DType { F32, F16, BF16, F8_E4M3, I8, I16, I32, I64, U8, BOOL, F8_E8M0 };

/// "F32", "BF16", "F8_E4M3", ... ; throws SafetensorsError for an unknown name.
DType dtype_from_name(const std::string& name);
std::string dtype_name(DType dtype);
size_t dtype_size(DType dtype);
/// The at::ScalarType used in memory (F8_E4M3 is held as raw bytes: at::kByte,
/// since LibTorch 1.13 has no float8 type).
at::ScalarType dtype_to_scalar_type(DType dtype);
/// The natural DType of a tensor (kByte maps to U8).
DType dtype_of(const at::Tensor& tensor);

/// Any problem with a safetensors file or checkpoint folder; the message names the file.
class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets relative to the data area
  uint64_t end = 0;
};

/// One memory-mapped, validated safetensors file. Tensors returned by tensor()
/// are zero-copy views of the mapping that keep it alive; treat them as read-only.
class SafetensorsFile {
 public:
  /// Maps and validates `path` (rules in safetensors_header.hpp; the tensor ranges
  /// must cover the data area exactly, as the reference library requires).
  static std::shared_ptr<SafetensorsFile> open(const std::filesystem::path& path);
  ~SafetensorsFile();

  const std::filesystem::path& path() const;
  const std::map<std::string, std::string>& metadata() const;
  std::vector<std::string> names() const;  // in file order
  bool contains(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;
  /// Zero-copy view (dtype per dtype_to_scalar_type); data whose address is not a
  /// multiple of its element size is returned as an aligned copy instead.
  at::Tensor tensor(const std::string& name) const;
  /// Drops the tensor's mapped pages from this process's memory (madvise
  /// MADV_DONTNEED on the read-only mapping): they stay in the page cache and are
  /// read back if a view still touches them, so this only lowers RSS.
  void release(const std::string& name) const;

  struct Impl;

 private:
  explicit SafetensorsFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A Hugging Face model folder: model.safetensors, or shards listed by
/// model.safetensors.index.json. Shards are opened lazily, only when one of
/// their tensors is requested; the constructor only checks that each listed shard
/// exists. Safe to call from several threads.
class CheckpointReader {
 public:
  explicit CheckpointReader(const std::filesystem::path& model_dir);
  ~CheckpointReader();
  CheckpointReader(CheckpointReader&&) noexcept;
  CheckpointReader& operator=(CheckpointReader&&) noexcept;

  const std::filesystem::path& directory() const;
  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const;
  TensorInfo info(const std::string& name) const;
  /// The file that holds `name` (for error messages).
  std::filesystem::path file_of(const std::string& name) const;
  /// Zero-copy view of one tensor; throws SafetensorsError naming the tensor when absent.
  at::Tensor load(const std::string& name) const;
  /// Every tensor whose name starts with `prefix` (e.g. "model.layers.3.").
  std::map<std::string, at::Tensor> load_prefix(const std::string& prefix) const;
  /// SafetensorsFile::release for every tensor starting with `prefix` whose shard is
  /// open (used once a layer has been copied, so a streamed run's RSS stays at one layer).
  void release_prefix(const std::string& prefix) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// A tensor to write; `stored_dtype` overrides the dtype written to the header
/// (used for F8_E4M3 data held in a kByte tensor).
struct NamedTensor {
  std::string name;
  at::Tensor tensor;
  std::optional<DType> stored_dtype;
};

/// Writes one safetensors file (header padded with spaces to a multiple of 8,
/// "__metadata__" included when non-empty). Writes to `path` directly; callers
/// that need atomicity write into a temporary folder.
void write_safetensors(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

/// Writes model.safetensors.index.json: {"metadata": {"total_size": N}, "weight_map": {name: file}}.
void write_safetensors_index(const std::filesystem::path& path, const std::map<std::string, std::string>& weight_map,
                             uint64_t total_size);

}  // namespace dcomp::io
