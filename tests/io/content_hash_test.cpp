// ContentHash: the digest depends on the byte sequence only (not on how it is fed), every
// single-bit change and every length change alters it, and file_content_hash agrees with
// hashing the file's bytes in memory.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kernels/io/content_hash.hpp"
#include "tests/io/io_test_support.hpp"

namespace dcomp::io {
namespace {

std::vector<unsigned char> random_bytes(size_t count, uint32_t seed) {
  std::mt19937 generator(seed);
  std::vector<unsigned char> bytes(count);
  for (auto& byte : bytes) byte = static_cast<unsigned char>(generator());
  return bytes;
}

uint64_t hash_of(const std::vector<unsigned char>& bytes) {
  ContentHash hash;
  hash.update(bytes.data(), bytes.size());
  return hash.digest();
}

TEST(ContentHash, DoesNotDependOnHowTheBytesAreSplit) {
  const auto bytes = random_bytes(10007, 1);
  const uint64_t whole = hash_of(bytes);
  std::mt19937 generator(2);
  for (int trial = 0; trial < 20; ++trial) {
    ContentHash pieces;
    size_t offset = 0;
    while (offset < bytes.size()) {
      const size_t piece = std::min<size_t>(bytes.size() - offset, generator() % 70);
      pieces.update(bytes.data() + offset, piece);
      offset += piece;
    }
    EXPECT_EQ(pieces.digest(), whole) << "trial " << trial;
  }
}

TEST(ContentHash, EverySingleBitFlipChangesTheDigest) {
  const auto bytes = random_bytes(301, 3);  // 9 full stripes and a 13-byte tail
  const uint64_t original = hash_of(bytes);
  std::set<uint64_t> digests{original};
  for (size_t position = 0; position < bytes.size(); ++position) {
    for (int bit = 0; bit < 8; ++bit) {
      auto changed = bytes;
      changed[position] ^= static_cast<unsigned char>(1u << bit);
      digests.insert(hash_of(changed));
    }
  }
  EXPECT_EQ(digests.size(), 1 + bytes.size() * 8);  // all distinct
}

TEST(ContentHash, LengthsAndSwappedWordsDiffer) {
  std::set<uint64_t> digests;
  for (size_t length = 0; length <= 96; ++length) {
    digests.insert(hash_of(std::vector<unsigned char>(length, 0)));  // zeros of every length
  }
  EXPECT_EQ(digests.size(), 97u);
  // Two 8-byte words exchanged between lanes (a shuffled tensor) change the digest.
  auto bytes = random_bytes(64, 4);
  auto swapped = bytes;
  std::swap_ranges(swapped.begin(), swapped.begin() + 8, swapped.begin() + 8);
  EXPECT_NE(hash_of(bytes), hash_of(swapped));
}

TEST(ContentHash, FileHashEqualsTheHashOfItsBytes) {
  testing::TempDir dir;
  const auto bytes = random_bytes((size_t{8} << 20) + 12345, 5);  // more than one read block
  const auto path = dir.path() / "weights.bin";
  testing::write_bytes(path, std::string(bytes.begin(), bytes.end()));
  char expected[17];
  std::snprintf(expected, sizeof(expected), "%016llx", static_cast<unsigned long long>(hash_of(bytes)));
  EXPECT_EQ(file_content_hash(path), expected);
  EXPECT_THROW(file_content_hash(dir.path() / "missing.bin"), std::runtime_error);
}

}  // namespace
}  // namespace dcomp::io
