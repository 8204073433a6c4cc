// GGUF files (llama.cpp's model format): memory-mapped, validated reading of the
// metadata and of each tensor's raw bytes.
//
// Layout (little-endian): magic "GGUF", u32 version (2 or 3), u64 tensor count,
// u64 metadata count; metadata as (string key, u32 value type, value); tensor infos
// as (string name, u32 n_dims, u64 dims[n_dims], u32 ggml type, u64 offset); then
// the data area at the next multiple of `general.alignment` (default 32). A string
// is a u64 length and that many UTF-8 bytes. dims[0] is the innermost (contiguous)
// dimension, so dims [576, 49152] is a 49152 x 576 row-major matrix.
// reference: the GGUF specification, ggml/docs/gguf.md in the ggml repository
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "kernels/gguf/ggml_type.hpp"

namespace dcomp::io::detail {
class FileMapping;
}

namespace dcomp::gguf {

/// Any problem with a GGUF file or its conversion; the message names the file.
class GgufError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One metadata value. Integers of every width are held as int64_t / uint64_t,
/// floats as double; arrays hold one of the vectors.
using GgufValue = std::variant<uint64_t, int64_t, double, bool, std::string, std::vector<uint64_t>,
                               std::vector<int64_t>, std::vector<double>, std::vector<std::string>>;

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // row-major (outermost first): the GGUF dims reversed
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;  // from the start of the data area
  uint64_t bytes = 0;
};

class GgufFile {
 public:
  /// Maps and validates `path`: magic, version, every string and array within the
  /// file, dims positive, the element count a whole number of blocks of the type,
  /// every tensor's bytes inside the file and no two overlapping.
  static std::shared_ptr<GgufFile> open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  uint32_t version() const { return version_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  /// The raw bytes of one tensor (inside the mapping, valid while this file lives).
  const uint8_t* tensor_bytes(const GgufTensorInfo& info) const;

  bool has(const std::string& key) const { return metadata_.count(key) != 0; }
  const GgufValue& value(const std::string& key) const;  // throws GgufError naming the key
  /// Typed accessors: throw GgufError naming the file and key when it is absent or of another kind.
  uint64_t unsigned_integer(const std::string& key) const;
  double real(const std::string& key) const;  // integers are accepted too
  bool boolean(const std::string& key) const;
  const std::string& string(const std::string& key) const;
  const std::vector<std::string>& strings(const std::string& key) const;
  std::vector<double> reals(const std::string& key) const;  // an integer or float array
  std::vector<int64_t> integers(const std::string& key) const;

  /// "<file>: <what>", for errors raised while converting.
  GgufError error(const std::string& what) const;

 private:
  GgufFile() = default;
  std::filesystem::path path_;
  std::shared_ptr<const io::detail::FileMapping> mapping_;
  uint32_t version_ = 0;
  std::map<std::string, GgufValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  uint64_t data_start_ = 0;
};

}  // namespace dcomp::gguf
