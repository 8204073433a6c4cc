// The "added_tokens" of a tokenizer.json: special and ordinary added tokens, found
// in the text before the model runs and never split by it.
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

class Normalizer;

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool normalized = false;   // matched in the normalized text (against the normalized content)
  bool lstrip = false;       // absorbs white space on its left
  bool rstrip = false;       // absorbs white space on its right
  bool single_word = false;  // only matched with no word character (letter, number, '_') on either side;
                             // combining marks, which a regex \w also counts, are not word characters here
};

/// A piece of text: either an added token (`id` set) or text still to be tokenized.
struct TextPiece {
  std::string text;
  std::optional<int32_t> id;
  size_t offset;  // byte offset of the piece inside the text that was split
};

class AddedVocabulary {
 public:
  /// Parses the "added_tokens" list (absent or null: none). `normalizer` (may be null)
  /// gives the normalized form that `normalized` tokens are matched by.
  static AddedVocabulary from_json(const nlohmann::json* added_tokens, const Normalizer* normalizer,
                                   const JsonContext& context);

  /// Splits raw text on the tokens with normalized == false.
  std::vector<TextPiece> split_raw(std::string_view text) const { return split(text, raw_matcher_); }
  /// Splits normalized text on the tokens with normalized == true.
  std::vector<TextPiece> split_normalized(std::string_view text) const { return split(text, normalized_matcher_); }

  const AddedToken* find_by_id(int32_t id) const;
  std::optional<int32_t> find_by_content(const std::string& content) const;
  /// One past the largest added-token id (0 when there are none).
  size_t id_limit() const { return id_limit_; }

 private:
  // Leftmost-longest matching of a set of patterns; candidates bucketed by first byte.
  struct Matcher {
    struct Pattern {
      std::string text;
      size_t token_index;
    };
    std::vector<std::vector<Pattern>> by_first_byte = std::vector<std::vector<Pattern>>(256);  // longest first
    bool empty = true;
  };
  static void add_pattern(Matcher& matcher, std::string text, size_t token_index);
  static void sort_longest_first(Matcher& matcher);  // after the last add_pattern
  std::vector<TextPiece> split(std::string_view text, const Matcher& matcher) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> index_by_id_;
  std::unordered_map<std::string, size_t> index_by_content_;
  Matcher raw_matcher_;
  Matcher normalized_matcher_;
  size_t id_limit_ = 0;
};

}  // namespace dcomp::tok
