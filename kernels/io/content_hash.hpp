// A 64-bit hash of a file's bytes, fast enough to run over a whole model's weights before
// a run starts (several GB/s on one core, so the disk is the limit): four independent
// multiply-rotate lanes over 32-byte stripes, folded together with the length at the end.
// It detects changed content (an edited or replaced tensor); it is not a cryptographic
// hash and does not resist a deliberate collision.
// reference: the 4-accumulator stripe structure of xxHash64 (Collet), with constants and
// mixing of its own; https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace dcomp::io {

/// Incremental hash: feed bytes in any split, the result depends only on their sequence.
class ContentHash {
 public:
  ContentHash();
  void update(const void* data, size_t bytes);
  uint64_t digest() const;

 private:
  void consume_stripe(const unsigned char* stripe);

  uint64_t lanes_[4];
  unsigned char pending_[32];
  size_t pending_bytes_ = 0;
  uint64_t total_bytes_ = 0;
};

/// The hash of a file's content as 16 hex digits. Throws std::runtime_error naming the
/// file when it cannot be read.
std::string file_content_hash(const std::filesystem::path& path);

}  // namespace dcomp::io
