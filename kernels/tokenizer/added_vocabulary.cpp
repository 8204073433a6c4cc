// reference: huggingface/tokenizers tokenizer/added_vocabulary.rs (two-pass extraction:
// raw tokens in the raw text, then normalized tokens in each normalized piece;
// leftmost-longest matching; lstrip, rstrip and single_word).
#include "kernels/tokenizer/added_vocabulary.hpp"

#include <algorithm>
#include <limits>

#include "kernels/tokenizer/normalizer.hpp"
#include "kernels/tokenizer/unicode_categories.hpp"
#include "kernels/tokenizer/utf8.hpp"

namespace dcomp::tok {
namespace {

// Byte offset where the code point ending at byte `end` of well-formed `text` starts (end > 0).
size_t previous_boundary(std::string_view text, size_t end) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return start;
}

char32_t code_point_before(std::string_view text, size_t end) {
  size_t start = previous_boundary(text, end);
  return next_code_point(text, start);
}

bool is_word_character(char32_t cp) { return is_letter(cp) || is_number(cp) || cp == U'_'; }

}  // namespace

AddedVocabulary AddedVocabulary::from_json(const nlohmann::json* added_tokens, const Normalizer* normalizer,
                                           const JsonContext& file_context) {
  AddedVocabulary vocabulary;
  if (added_tokens == nullptr || added_tokens->is_null()) return vocabulary;
  const JsonContext context = file_context.with_component("added_tokens");
  if (!added_tokens->is_array()) throw_tokenizer_error(context, "must be a list");
  for (size_t index = 0; index < added_tokens->size(); ++index) {
    const nlohmann::json& entry = (*added_tokens)[index];
    const JsonContext item = file_context.with_component("added_tokens[" + std::to_string(index) + "]");
    AddedToken token;
    const nlohmann::json& id = require_field(entry, "id", item);
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      throw_tokenizer_error(item, "\"id\" must be a non-negative 32-bit integer, found " + id.dump());
    }
    token.id = static_cast<int32_t>(id.get<int64_t>());
    token.content = require_string(entry, "content", item);
    if (token.content.empty()) throw_tokenizer_error(item, "\"content\" is empty");
    if (find_invalid_utf8(token.content) != std::string::npos) throw_tokenizer_error(item, "\"content\" is not valid UTF-8");
    token.special = optional_bool(entry, "special", false, item);
    token.normalized = optional_bool(entry, "normalized", !token.special, item);
    token.lstrip = optional_bool(entry, "lstrip", false, item);
    token.rstrip = optional_bool(entry, "rstrip", false, item);
    token.single_word = optional_bool(entry, "single_word", false, item);
    if (vocabulary.index_by_id_.count(token.id) != 0) {
      throw_tokenizer_error(item, "id " + std::to_string(token.id) + " is used by an earlier added token");
    }

    const size_t token_index = vocabulary.tokens_.size();
    vocabulary.index_by_id_.emplace(token.id, token_index);
    vocabulary.index_by_content_.emplace(token.content, token_index);
    vocabulary.id_limit_ = std::max(vocabulary.id_limit_, static_cast<size_t>(token.id) + 1);
    if (token.normalized) {
      std::string pattern = normalizer != nullptr ? normalizer->apply(token.content) : token.content;
      if (pattern.empty()) throw_tokenizer_error(item, "\"" + token.content + "\" normalizes to an empty string");
      add_pattern(vocabulary.normalized_matcher_, std::move(pattern), token_index);
    } else {
      add_pattern(vocabulary.raw_matcher_, token.content, token_index);
    }
    vocabulary.tokens_.push_back(std::move(token));
  }
  sort_longest_first(vocabulary.raw_matcher_);
  sort_longest_first(vocabulary.normalized_matcher_);
  return vocabulary;
}

void AddedVocabulary::add_pattern(Matcher& matcher, std::string text, size_t token_index) {
  matcher.by_first_byte[static_cast<unsigned char>(text[0])].push_back({std::move(text), token_index});
  matcher.empty = false;
}

void AddedVocabulary::sort_longest_first(Matcher& matcher) {
  for (auto& bucket : matcher.by_first_byte) {
    std::stable_sort(bucket.begin(), bucket.end(),
                     [](const Matcher::Pattern& a, const Matcher::Pattern& b) { return a.text.size() > b.text.size(); });
  }
}

std::vector<TextPiece> AddedVocabulary::split(std::string_view text, const Matcher& matcher) const {
  std::vector<TextPiece> pieces;
  if (matcher.empty) {
    if (!text.empty()) pieces.push_back({std::string(text), std::nullopt, 0});
    return pieces;
  }
  size_t piece_start = 0;  // start of the text not yet assigned to a piece
  size_t pos = 0;
  while (pos < text.size()) {
    const auto& bucket = matcher.by_first_byte[static_cast<unsigned char>(text[pos])];
    const auto found = std::find_if(bucket.begin(), bucket.end(), [&](const Matcher::Pattern& pattern) {
      return text.compare(pos, pattern.text.size(), pattern.text) == 0;
    });
    if (found == bucket.end()) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[found->token_index];
    size_t start = pos;
    size_t stop = pos + found->text.size();
    if (token.single_word) {
      const bool word_before = start > 0 && is_word_character(code_point_before(text, start));
      size_t after = stop;
      const bool word_after = stop < text.size() && is_word_character(next_code_point(text, after));
      if (word_before || word_after) {
        pos = stop;  // this occurrence stays ordinary text
        continue;
      }
    }
    if (token.lstrip) {
      while (start > piece_start && is_whitespace(code_point_before(text, start))) start = previous_boundary(text, start);
    }
    if (token.rstrip) {
      while (stop < text.size()) {
        size_t next = stop;
        if (!is_whitespace(next_code_point(text, next))) break;
        stop = next;
      }
    }
    if (piece_start < start) pieces.push_back({std::string(text.substr(piece_start, start - piece_start)), std::nullopt, piece_start});
    pieces.push_back({std::string(text.substr(start, stop - start)), token.id, start});
    piece_start = stop;
    pos = stop;
  }
  if (piece_start < text.size()) pieces.push_back({std::string(text.substr(piece_start)), std::nullopt, piece_start});
  return pieces;
}

const AddedToken* AddedVocabulary::find_by_id(int32_t id) const {
  const auto it = index_by_id_.find(id);
  return it == index_by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedVocabulary::find_by_content(const std::string& content) const {
  const auto it = index_by_content_.find(content);
  if (it == index_by_content_.end()) return std::nullopt;
  return tokens_[it->second].id;
}

}  // namespace dcomp::tok
