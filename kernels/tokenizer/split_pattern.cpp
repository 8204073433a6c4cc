// reference: the GPT-2 pattern in openai/gpt-2 src/encoder.py, the Llama-3 pattern in
// meta-llama/llama3 llama/tokenizer.py and huggingface/tokenizers
// pre_tokenizers/byte_level.rs; semantics of alternation, greedy quantifiers and the
// (?!\S) look-ahead as in any backtracking regex engine (Oniguruma in tokenizers).
#include "kernels/tokenizer/split_pattern.hpp"

#include "kernels/tokenizer/unicode_categories.hpp"
#include "kernels/tokenizer/utf8.hpp"

namespace dcomp::tok {
namespace {

constexpr std::string_view kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// The text decoded once into code points with their classes; matching works on
// code point indices, and `byte_offset` maps them back ([i] = start of code point i).
class ClassifiedText {
 public:
  explicit ClassifiedText(std::string_view text) {
    code_points_.reserve(text.size());
    byte_offset_.reserve(text.size() + 1);
    size_t pos = 0;
    while (pos < text.size()) {
      byte_offset_.push_back(pos);
      code_points_.push_back(next_code_point(text, pos));
    }
    byte_offset_.push_back(text.size());
    letter_.resize(code_points_.size());
    number_.resize(code_points_.size());
    space_.resize(code_points_.size());
    for (size_t i = 0; i < code_points_.size(); ++i) {
      letter_[i] = is_letter(code_points_[i]);
      number_[i] = !letter_[i] && is_number(code_points_[i]);
      space_[i] = !letter_[i] && !number_[i] && is_whitespace(code_points_[i]);
    }
  }

  size_t size() const { return code_points_.size(); }
  size_t byte_offset(size_t i) const { return byte_offset_[i]; }
  char32_t at(size_t i) const { return code_points_[i]; }
  bool letter(size_t i) const { return i < size() && letter_[i]; }
  bool number(size_t i) const { return i < size() && number_[i]; }
  bool space(size_t i) const { return i < size() && space_[i]; }
  // [^\s\p{L}\p{N}]
  bool other(size_t i) const { return i < size() && !letter_[i] && !number_[i] && !space_[i]; }
  bool is(size_t i, char32_t cp) const { return i < size() && code_points_[i] == cp; }
  bool line_break(size_t i) const { return is(i, U'\r') || is(i, U'\n'); }

  // End of the run of code points satisfying `predicate` that starts at `i`.
  template <typename Predicate>
  size_t run_end(size_t i, Predicate predicate) const {
    while (i < size() && predicate(i)) ++i;
    return i;
  }

 private:
  std::vector<char32_t> code_points_;
  std::vector<size_t> byte_offset_;
  std::vector<bool> letter_, number_, space_;
};

constexpr size_t kNoMatch = 0;  // matches are never empty, so end == start never occurs

// 's|'t|'re|'ve|'m|'ll|'d, case-sensitive or (?i:...) case-insensitive.
size_t match_contraction(const ClassifiedText& t, size_t i, bool ignore_case) {
  if (!t.is(i, U'\'') || i + 1 >= t.size()) return kNoMatch;
  const auto fold = [&](size_t k) -> char32_t {
    if (k >= t.size()) return 0;
    const char32_t cp = t.at(k);
    if (!ignore_case) return cp;
    if (cp >= U'A' && cp <= U'Z') return cp - U'A' + U'a';
    if (cp == 0x17F) return U's';  // LATIN SMALL LETTER LONG S case-folds to 's'
    return cp;
  };
  const char32_t first = fold(i + 1);
  if (first == U's' || first == U't' || first == U'm' || first == U'd') return i + 2;
  const char32_t second = fold(i + 2);
  if ((first == U'r' && second == U'e') || (first == U'v' && second == U'e') || (first == U'l' && second == U'l')) {
    return i + 3;
  }
  return kNoMatch;
}

// ` ?X+` where X is a class predicate: an optional U+0020 then at least one X.
template <typename Predicate>
size_t match_optional_space_then_run(const ClassifiedText& t, size_t i, Predicate in_class) {
  size_t start = i;
  if (t.is(i, U' ') && in_class(i + 1)) start = i + 1;
  if (!in_class(start)) return kNoMatch;
  return t.run_end(start, in_class);
}

// \s+(?!\S): the white-space run, minus its last code point when a non-space follows.
size_t match_space_not_before_nonspace(const ClassifiedText& t, size_t i) {
  if (!t.space(i)) return kNoMatch;
  const size_t end = t.run_end(i, [&](size_t k) { return t.space(k); });
  if (end == t.size()) return end;
  return end - 1 > i ? end - 1 : kNoMatch;
}

// \s+
size_t match_space_run(const ClassifiedText& t, size_t i) {
  if (!t.space(i)) return kNoMatch;
  return t.run_end(i, [&](size_t k) { return t.space(k); });
}

size_t match_gpt2_at(const ClassifiedText& t, size_t i) {
  if (size_t end = match_contraction(t, i, /*ignore_case=*/false)) return end;
  if (size_t end = match_optional_space_then_run(t, i, [&](size_t k) { return t.letter(k); })) return end;
  if (size_t end = match_optional_space_then_run(t, i, [&](size_t k) { return t.number(k); })) return end;
  if (size_t end = match_optional_space_then_run(t, i, [&](size_t k) { return t.other(k); })) return end;
  if (size_t end = match_space_not_before_nonspace(t, i)) return end;
  return match_space_run(t, i);
}

size_t match_llama3_at(const ClassifiedText& t, size_t i, size_t max_digits) {
  if (size_t end = match_contraction(t, i, /*ignore_case=*/true)) return end;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (t.letter(i)) return t.run_end(i, [&](size_t k) { return t.letter(k); });
  if (i < t.size() && !t.line_break(i) && !t.number(i) && t.letter(i + 1)) {
    return t.run_end(i + 1, [&](size_t k) { return t.letter(k); });
  }
  // \p{N}{1,max}
  if (t.number(i)) {
    size_t end = i;
    while (t.number(end) && (max_digits == 0 || end - i < max_digits)) ++end;
    return end;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  if (size_t end = match_optional_space_then_run(t, i, [&](size_t k) { return t.other(k); })) {
    return t.run_end(end, [&](size_t k) { return t.line_break(k); });
  }
  // \s*[\r\n]+: the white-space run up to and including its last line break.
  if (t.space(i)) {
    const size_t run_end = t.run_end(i, [&](size_t k) { return t.space(k); });
    for (size_t k = run_end; k > i; --k) {
      if (t.line_break(k - 1)) return k;
    }
  }
  if (size_t end = match_space_not_before_nonspace(t, i)) return end;
  return match_space_run(t, i);
}

}  // namespace

SplitPattern SplitPattern::gpt2() { return SplitPattern(Family::kGpt2, 0, "gpt2"); }
SplitPattern SplitPattern::llama3() { return SplitPattern(Family::kLlama3, 3, "llama3"); }
SplitPattern SplitPattern::qwen2() { return SplitPattern(Family::kLlama3, 1, "qwen2"); }

std::string_view SplitPattern::regex() const {
  if (family_ == Family::kGpt2) return kGpt2Regex;
  return max_digits_ == 3 ? kLlama3Regex : kQwen2Regex;
}

std::optional<SplitPattern> SplitPattern::recognise(std::string_view regex) {
  if (regex == kGpt2Regex) return gpt2();
  if (regex == kLlama3Regex) return llama3();
  if (regex == kQwen2Regex) return qwen2();
  return std::nullopt;
}

std::vector<ByteSpan> SplitPattern::find_matches(std::string_view text) const {
  const ClassifiedText classified(text);
  std::vector<ByteSpan> matches;
  size_t i = 0;
  while (i < classified.size()) {
    const size_t end =
        family_ == Family::kGpt2 ? match_gpt2_at(classified, i) : match_llama3_at(classified, i, max_digits_);
    if (end == kNoMatch) {
      ++i;  // no alternative matches here: this code point lies between matches
      continue;
    }
    matches.emplace_back(classified.byte_offset(i), classified.byte_offset(end));
    i = end;
  }
  return matches;
}

}  // namespace dcomp::tok
