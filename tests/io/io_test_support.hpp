// Helpers for the kernels/io tests: a temporary folder, raw file bytes assembled by
// hand from the safetensors spec, and capturing an expected SafetensorsError.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include "kernels/io/safetensors.hpp"

namespace dcomp::io::testing {

/// A fresh folder under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dcomp_io_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(stream.good()) << "cannot write " << path;
}

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>());
}

/// The 8 little-endian bytes of `value`, assembled byte by byte.
inline std::string u64_le(uint64_t value) {
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  return bytes;
}

/// A safetensors file as the spec lays it out: u64 LE length of `header`, the
/// header text exactly as given (no padding added), then `data`.
inline std::string safetensors_bytes(const std::string& header, const std::string& data) {
  return u64_le(header.size()) + header + data;
}

/// Runs `action`, which must throw SafetensorsError, and returns its message
/// (empty, with a test failure, when it does not throw).
template <typename Action>
std::string error_message_of(Action&& action) {
  try {
    action();
  } catch (const SafetensorsError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a SafetensorsError";
  return {};
}

}  // namespace dcomp::io::testing
