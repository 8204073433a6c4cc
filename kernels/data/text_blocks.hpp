// A plain-text file read as independent blocks, so that calibration samples can be
// drawn from a few blocks without reading or tokenizing the rest of the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace dcomp::data {

/// How far past a nominal cut position a whitespace byte is looked for.
inline constexpr size_t kCutSearchBytes = 1024;

/// The first safe cut position at or after `from` in `bytes`: the first whitespace byte
/// (' ', '\n', '\r', '\t') within kCutSearchBytes, which then starts the text after the
/// cut, so no word is split; failing that, the first byte that is not a UTF-8
/// continuation byte (10xxxxxx), so no character is split; bytes.size() when none is.
size_t safe_cut(std::string_view bytes, size_t from);

/// Bytes per calibration block for samples of `max_seq_length` tokens: 64 bytes a token
/// and at least 64 KiB, about 16 windows at the 4 bytes a token of English BPE text.
uint64_t calibration_block_bytes(size_t max_seq_length);

/// A text file cut into ceil(size / block_bytes) blocks: block i spans from the safe cut
/// at or after i·block_bytes (0 for the first) to the start of block i + 1 (the file's
/// end for the last). Cut positions are found by reading at most kCutSearchBytes past
/// each nominal position, so opening the file reads nothing but its size.
class TextBlockFile {
 public:
  /// DatasetError when the file cannot be opened or is empty.
  TextBlockFile(std::filesystem::path file, uint64_t block_bytes);

  size_t count() const { return count_; }
  /// The bytes of block `index` (< count()); DatasetError on a read error.
  std::string read(size_t index) const;

 private:
  uint64_t block_start(size_t index) const;
  std::string read_range(uint64_t begin, uint64_t length) const;

  std::filesystem::path file_;
  uint64_t block_bytes_;
  uint64_t size_ = 0;
  size_t count_ = 0;
};

}  // namespace dcomp::data
