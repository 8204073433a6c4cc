// reference: UTF-8, RFC 3629 section 3 (continuation bytes are 10xxxxxx, so any other
// byte starts a character).
#include "kernels/data/text_blocks.hpp"

#include <algorithm>
#include <fstream>
#include <system_error>

#include "kernels/data/dataset.hpp"

namespace dcomp::data {
namespace {

bool is_whitespace(char byte) { return byte == ' ' || byte == '\n' || byte == '\r' || byte == '\t'; }

bool is_continuation(char byte) { return (static_cast<unsigned char>(byte) & 0xC0u) == 0x80u; }

}  // namespace

size_t safe_cut(std::string_view bytes, size_t from) {
  if (from >= bytes.size()) return bytes.size();
  const size_t search_end = std::min(bytes.size(), from + kCutSearchBytes);
  for (size_t i = from; i < search_end; ++i) {
    if (is_whitespace(bytes[i])) return i;
  }
  for (size_t i = from; i < bytes.size(); ++i) {
    if (!is_continuation(bytes[i])) return i;
  }
  return bytes.size();
}

uint64_t calibration_block_bytes(size_t max_seq_length) {
  return std::max<uint64_t>(uint64_t{64} << 10, uint64_t{64} * max_seq_length);
}

TextBlockFile::TextBlockFile(std::filesystem::path file, uint64_t block_bytes)
    : file_(std::move(file)), block_bytes_(std::max<uint64_t>(block_bytes, 2 * kCutSearchBytes)) {
  std::ifstream probe(file_, std::ios::binary);
  if (!probe) throw DatasetError(file_.string() + ": cannot open dataset file");
  std::error_code error;
  size_ = std::filesystem::file_size(file_, error);
  if (error) throw DatasetError(file_.string() + ": cannot read the file's size: " + error.message());
  if (size_ == 0) throw DatasetError(file_.string() + ": dataset file is empty");
  count_ = static_cast<size_t>((size_ + block_bytes_ - 1) / block_bytes_);
}

std::string TextBlockFile::read_range(uint64_t begin, uint64_t length) const {
  std::ifstream in(file_, std::ios::binary);
  if (!in) throw DatasetError(file_.string() + ": cannot open dataset file");
  std::string bytes(length, '\0');
  in.seekg(static_cast<std::streamoff>(begin));
  in.read(bytes.data(), static_cast<std::streamsize>(length));
  if (static_cast<uint64_t>(in.gcount()) != length) {
    throw DatasetError(file_.string() + ": read error at byte " + std::to_string(begin) + " (was the file changed?)");
  }
  return bytes;
}

uint64_t TextBlockFile::block_start(size_t index) const {
  if (index == 0) return 0;
  if (index >= count_) return size_;
  const uint64_t nominal = index * block_bytes_;
  // A continuation run is at most 3 bytes, so the search window always holds a cut.
  const std::string window = read_range(nominal, std::min<uint64_t>(kCutSearchBytes + 4, size_ - nominal));
  return nominal + safe_cut(window, 0);
}

std::string TextBlockFile::read(size_t index) const {
  const uint64_t begin = block_start(index);
  const uint64_t end = block_start(index + 1);
  return end > begin ? read_range(begin, end - begin) : std::string();
}

}  // namespace dcomp::data
