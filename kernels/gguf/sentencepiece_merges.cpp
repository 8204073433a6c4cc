// reference: transformers/convert_slow_tokenizer.py (SentencePieceExtractor.extract: for
// each piece, every split whose halves are both pieces; sorted by the halves' ids, then
// stably by score); rolling (Rabin-Karp) polynomial hashes modulo 2^61 - 1.
#include "kernels/gguf/sentencepiece_merges.hpp"

#include <algorithm>
#include <random>
#include <string_view>

namespace dcomp::gguf {
namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kModulus = (uint64_t{1} << 61) - 1;

uint64_t multiply_mod(uint64_t a, uint64_t b) {
  const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
  const uint64_t folded = static_cast<uint64_t>(product & kModulus) + static_cast<uint64_t>(product >> 61);
  return folded >= kModulus ? folded - kModulus : folded;
}

// Hashes of every prefix of a piece, from which the hash of any substring follows in
// O(1). The base is drawn per process, so that no file can be built to collide.
class RollingHash {
 public:
  static uint64_t base() {
    static const uint64_t drawn = std::mt19937_64(std::random_device{}())() % (kModulus - 256) + 256;
    return drawn;
  }

  explicit RollingHash(std::string_view text) : prefix_(text.size() + 1, 0), power_(text.size() + 1, 1) {
    for (size_t i = 0; i < text.size(); ++i) {
      prefix_[i + 1] = (multiply_mod(prefix_[i], base()) + static_cast<unsigned char>(text[i]) + 1) % kModulus;
      power_[i + 1] = multiply_mod(power_[i], base());
    }
  }

  /// The hash of bytes [begin, end): equal to RollingHash(text.substr(begin, end - begin)).whole().
  uint64_t of(size_t begin, size_t end) const {
    return (prefix_[end] + kModulus - multiply_mod(prefix_[begin], power_[end - begin])) % kModulus;
  }
  uint64_t whole() const { return prefix_.back(); }

 private:
  std::vector<uint64_t> prefix_, power_;
};

// The pieces by hash; a lookup compares the text only for pieces of the same hash.
class PieceIndex {
 public:
  explicit PieceIndex(const std::unordered_map<std::string, int64_t>& vocab) {
    by_hash_.reserve(vocab.size());
    for (const auto& [piece, id] : vocab) by_hash_.emplace(RollingHash(piece).whole(), Entry{&piece, id});
  }

  /// The id of the piece equal to `text` (whose hash is `hash`), or -1.
  int64_t find(uint64_t hash, std::string_view text) const {
    const auto [first, last] = by_hash_.equal_range(hash);
    for (auto it = first; it != last; ++it)
      if (*it->second.piece == text) return it->second.id;
    return -1;
  }

 private:
  struct Entry {
    const std::string* piece;
    int64_t id;
  };
  std::unordered_multimap<uint64_t, Entry> by_hash_;
};

struct Merge {
  int64_t left, right;
  double score;
  size_t left_length, right_length;  // code points
};

bool continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

Json sentencepiece_merges(const std::vector<std::string>& tokens, const std::vector<double>& scores,
                          const std::unordered_map<std::string, int64_t>& vocab,
                          const std::function<void(const std::string&)>& fail) {
  const PieceIndex index(vocab);
  std::vector<Merge> merges;
  uint64_t merge_bytes = 0;
  for (size_t id = 0; id < tokens.size(); ++id) {
    const std::string& piece = tokens[id];
    if (vocab.at(piece) != static_cast<int64_t>(id)) continue;  // a repeated piece counts once
    const RollingHash hash(piece);
    const std::string_view text(piece);
    // Code points counted as the reference splits: one starts at byte 0 and at every
    // later byte that is not a UTF-8 continuation byte.
    size_t total_code_points = 1;
    for (size_t i = 1; i < piece.size(); ++i) total_code_points += continuation_byte(piece[i]) ? 0 : 1;
    std::vector<Merge> local;
    size_t left_code_points = 1;
    for (size_t split = 1; split < piece.size(); ++split) {
      if (split > 1 && !continuation_byte(piece[split - 1])) ++left_code_points;
      if (continuation_byte(piece[split])) continue;  // not a code point boundary
      const int64_t left = index.find(hash.of(0, split), text.substr(0, split));
      if (left < 0) continue;
      const int64_t right = index.find(hash.of(split, piece.size()), text.substr(split));
      if (right < 0) continue;
      local.push_back({left, right, scores[id], left_code_points, total_code_points - left_code_points});
      merge_bytes += piece.size();
    }
    if (merges.size() + local.size() > kMaxMerges || merge_bytes > kMaxMergeBytes)
      fail("the SentencePiece merges rebuilt from the vocabulary exceed dcomp's limit of " +
           std::to_string(kMaxMerges) + " merges or " + std::to_string(kMaxMergeBytes >> 20) + " MiB (at token " +
           std::to_string(id) + ")");
    std::sort(local.begin(), local.end(), [](const Merge& a, const Merge& b) {
      return a.left != b.left ? a.left < b.left : a.right < b.right;
    });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.left_length != b.left_length) return a.left_length > b.left_length;
    return a.right_length > b.right_length;
  });
  Json list = Json::array();
  list.get_ref<Json::array_t&>().reserve(merges.size());
  for (const auto& merge : merges) list.push_back(Json::array({tokens[merge.left], tokens[merge.right]}));
  return list;
}

}  // namespace dcomp::gguf
