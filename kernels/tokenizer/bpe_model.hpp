// The BPE model of a tokenizer.json: vocabulary, ranked merges, unknown token and
// byte fallback; turns one pre-tokenized word into ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/tokenizer/json_fields.hpp"

namespace dcomp::tok {

class BpeModel {
 public:
  /// Words up to this many bytes are remembered by a WordCache.
  static constexpr size_t kMaxCachedWordBytes = 256;
  /// Memo of word -> ids for one encode call (not shared between threads).
  using WordCache = std::unordered_map<std::string, std::vector<int32_t>>;

  /// Parses the "model" object (type "BPE"); `context` names the file.
  static BpeModel from_json(const nlohmann::json& model, const JsonContext& context);

  /// Appends the ids of `word` (well-formed UTF-8) to `out`. A character found neither in
  /// the vocabulary nor as byte-fallback tokens becomes the unknown token (runs of them one
  /// token when fuse_unk), or is left out when the model has no unknown token.
  void encode_word(std::string_view word, std::vector<int32_t>& out, WordCache* cache = nullptr) const;

  std::optional<int32_t> token_to_id(const std::string& token) const;
  /// The vocabulary entry with this id, or nullptr when no entry has it.
  const std::string* id_to_token(int32_t id) const;
  /// One past the largest id in the vocabulary.
  size_t id_limit() const { return id_to_token_.size(); }

 private:
  struct MergeResult {
    int32_t rank;    // position in the merges list; lower merges first
    int32_t new_id;  // id of the concatenated token
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

  // Initial symbols of `word`: one per character (with continuing-subword prefix and
  // end-of-word suffix), byte-fallback tokens or the (fused) unknown token.
  std::vector<int32_t> initial_symbols(std::string_view word) const;
  // Applies the merges to `symbols` in rank order, leftmost first among equal ranks.
  void merge_symbols(std::vector<int32_t>& symbols) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::vector<bool> id_present_;
  std::unordered_map<uint64_t, MergeResult> merges_;
  std::optional<int32_t> unk_id_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  std::vector<int32_t> byte_token_ids_;  // id of "<0xXX>" per byte, -1 when absent
};

}  // namespace dcomp::tok
