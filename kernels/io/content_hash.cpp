// reference: see content_hash.hpp
#include "kernels/io/content_hash.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace dcomp::io {
namespace {

// Odd 64-bit constants with well-spread bits (fractional parts of sqrt(2), sqrt(3), e, pi).
constexpr uint64_t kMultiplier = 0x6a09e667f3bcc909ULL;
constexpr uint64_t kLaneSeeds[4] = {0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
                                    0x510e527fade682d1ULL};
constexpr uint64_t kFoldMultiplier = 0x9b05688c2b3e6c1fULL;

inline uint64_t rotate_left(uint64_t value, int bits) { return (value << bits) | (value >> (64 - bits)); }

inline uint64_t load_word(const unsigned char* bytes) {
  uint64_t word = 0;
  std::memcpy(&word, bytes, sizeof(word));  // the machine's byte order: a digest is compared on one machine
  return word;
}

inline uint64_t mix(uint64_t lane, uint64_t word) {
  lane ^= word * kMultiplier;
  lane = rotate_left(lane, 29);
  return lane * kFoldMultiplier;
}

// The final avalanche: every input bit reaches every output bit.
inline uint64_t finalize(uint64_t value) {
  value ^= value >> 33;
  value *= kMultiplier;
  value ^= value >> 29;
  value *= kFoldMultiplier;
  value ^= value >> 32;
  return value;
}

}  // namespace

ContentHash::ContentHash() {
  for (int lane = 0; lane < 4; ++lane) lanes_[lane] = kLaneSeeds[lane];
}

void ContentHash::consume_stripe(const unsigned char* stripe) {
  for (int lane = 0; lane < 4; ++lane) lanes_[lane] = mix(lanes_[lane], load_word(stripe + 8 * lane));
}

void ContentHash::update(const void* data, size_t bytes) {
  if (bytes == 0) return;  // data may then be null (an empty vector's data())
  const auto* input = static_cast<const unsigned char*>(data);
  total_bytes_ += bytes;
  if (pending_bytes_ > 0) {
    const size_t taken = std::min(bytes, sizeof(pending_) - pending_bytes_);
    std::memcpy(pending_ + pending_bytes_, input, taken);
    pending_bytes_ += taken;
    input += taken;
    bytes -= taken;
    if (pending_bytes_ < sizeof(pending_)) return;
    consume_stripe(pending_);
    pending_bytes_ = 0;
  }
  for (; bytes >= sizeof(pending_); input += sizeof(pending_), bytes -= sizeof(pending_)) consume_stripe(input);
  if (bytes > 0) std::memcpy(pending_, input, bytes);
  pending_bytes_ = bytes;
}

uint64_t ContentHash::digest() const {
  uint64_t value = total_bytes_ * kFoldMultiplier;
  for (int lane = 0; lane < 4; ++lane) value = mix(value, lanes_[lane]) + rotate_left(lanes_[lane], 7 + 13 * lane);
  // The tail: whole words, then the last bytes zero-padded into one word (the length above
  // tells "ab" from "ab\0").
  size_t offset = 0;
  for (; offset + 8 <= pending_bytes_; offset += 8) value = mix(value, load_word(pending_ + offset));
  if (offset < pending_bytes_) {
    unsigned char last[8] = {0};
    std::memcpy(last, pending_ + offset, pending_bytes_ - offset);
    value = mix(value, load_word(last));
  }
  return finalize(value);
}

std::string file_content_hash(const std::filesystem::path& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw std::runtime_error(path.string() + ": cannot be read: " + std::strerror(errno));
  constexpr size_t kBlock = size_t{8} << 20;
  std::unique_ptr<unsigned char[]> block(new unsigned char[kBlock]);
  ContentHash hash;
  size_t got = 0;
  while ((got = std::fread(block.get(), 1, kBlock, file.get())) > 0) hash.update(block.get(), got);
  if (std::ferror(file.get())) throw std::runtime_error(path.string() + ": read error: " + std::strerror(errno));
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(hash.digest()));
  return text;
}

}  // namespace dcomp::io
