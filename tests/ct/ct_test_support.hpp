// Helpers for the compressed-tensors tests: scratch folders, a tiny source model
// folder, and plain (loop-based) dequantization used as the reference.
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dcomp::ct::testing {

/// A fresh folder under the system temp directory, removed with its contents.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dcomp-ct-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream stream(path, std::ios::binary);
  stream << text;
}

inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream stream(path);
  return nlohmann::json::parse(stream);
}

/// A source model folder holding only config.json (with `torch_dtype`) and tokenizer files.
inline std::filesystem::path make_source_model(const std::filesystem::path& root, const std::string& torch_dtype) {
  const std::filesystem::path dir = root / "source";
  std::filesystem::create_directories(dir);
  const nlohmann::json config = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 64},
                                 {"model_type", "llama"},                {"torch_dtype", torch_dtype},
                                 {"vocab_size", 32},                     {"rms_norm_eps", 1e-6}};
  write_file(dir / "config.json", config.dump(2));
  write_file(dir / "tokenizer.json", R"({"model": {"type": "BPE"}})");
  write_file(dir / "generation_config.json", R"({"bos_token_id": 1})");
  return dir;
}

/// The entries of `dir` (names only).
inline std::vector<std::string> folder_entries(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// E4M3 byte → value by the format's definition (sign, 4-bit exponent with bias 7, 3-bit mantissa).
inline float e4m3_value(uint8_t byte) {
  const int exponent = (byte >> 3) & 0xF, mantissa = byte & 7;
  const float magnitude = exponent == 0 ? mantissa / 8.0f * std::pow(2.0f, -6.0f)
                                        : (1.0f + mantissa / 8.0f) * std::pow(2.0f, float(exponent - 7));
  return (byte & 0x80) ? -magnitude : magnitude;
}

}  // namespace dcomp::ct::testing
