// GGUF files assembled byte by byte from the specification (ggml/docs/gguf.md, version
// 3, alignment 32), for tests that need inputs no real writer makes: huge names,
// tokens and counts.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace dcomp::gguf::testing {

class GgufBuilder {
 public:
  GgufBuilder& string(const std::string& key, const std::string& value) {
    entry(key, kString);
    put_string(metadata_, value);
    return *this;
  }
  GgufBuilder& u32(const std::string& key, uint32_t value) {
    entry(key, kU32);
    put(metadata_, value);
    return *this;
  }
  GgufBuilder& strings(const std::string& key, const std::vector<std::string>& values) {
    array(key, kString, values.size());
    for (const auto& value : values) put_string(metadata_, value);
    return *this;
  }
  GgufBuilder& f32s(const std::string& key, const std::vector<float>& values) {
    array(key, kF32, values.size());
    for (const float value : values) put(metadata_, value);
    return *this;
  }
  /// An F32 tensor of `dims` (innermost first, as GGUF stores them), all zeros.
  GgufBuilder& tensor(const std::string& name, const std::vector<uint64_t>& dims) {
    uint64_t elements = 1;
    for (const uint64_t d : dims) elements *= d;
    put_string(tensors_, name);
    put(tensors_, static_cast<uint32_t>(dims.size()));
    for (const uint64_t d : dims) put(tensors_, d);
    put(tensors_, uint32_t{0});  // F32
    put(tensors_, static_cast<uint64_t>(data_.size()));
    data_.append(elements * 4, '\0');
    data_.append((32 - data_.size() % 32) % 32, '\0');
    ++tensor_count_;
    return *this;
  }

  std::string bytes() const {
    std::string out = "GGUF";
    put(out, uint32_t{3});
    put(out, tensor_count_);
    put(out, metadata_count_);
    out += metadata_ + tensors_;
    out.append((32 - out.size() % 32) % 32, '\0');
    return out + data_;
  }
  void write(const std::filesystem::path& path) const {
    std::ofstream(path, std::ios::binary) << bytes();
  }

 private:
  static constexpr uint32_t kU32 = 4, kF32 = 6, kString = 8, kArray = 9;

  template <typename T>
  static void put(std::string& out, T value) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));  // little-endian hosts only, as the tests run
    out.append(bytes, sizeof(T));
  }
  static void put_string(std::string& out, const std::string& text) {
    put(out, static_cast<uint64_t>(text.size()));
    out += text;
  }
  void entry(const std::string& key, uint32_t type) {
    put_string(metadata_, key);
    put(metadata_, type);
    ++metadata_count_;
  }
  void array(const std::string& key, uint32_t element_type, size_t count) {
    entry(key, kArray);
    put(metadata_, element_type);
    put(metadata_, static_cast<uint64_t>(count));
  }

  std::string metadata_, tensors_, data_;
  uint64_t metadata_count_ = 0, tensor_count_ = 0;
};

}  // namespace dcomp::gguf::testing
