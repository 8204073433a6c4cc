// A read-only memory mapping of a whole file (POSIX mmap), released when the last
// owner lets go; zero-copy tensors hold a shared_ptr to it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

namespace dcomp::io::detail {

/// The bytes of one file, mapped PROT_READ / MAP_PRIVATE. Writing through
/// bytes() faults; an empty file maps to bytes() == nullptr, size() == 0.
class FileMapping {
 public:
  /// Maps `path`; throws SafetensorsError naming the file when it cannot be
  /// opened, is not a regular file, or cannot be mapped.
  static std::shared_ptr<const FileMapping> map(const std::filesystem::path& path);
  ~FileMapping();
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;

  const uint8_t* bytes() const { return bytes_; }
  uint64_t size() const { return size_; }

 private:
  FileMapping(const uint8_t* bytes, uint64_t size) : bytes_(bytes), size_(size) {}
  const uint8_t* bytes_;
  uint64_t size_;
};

}  // namespace dcomp::io::detail
