// The pre-tokenizer split regexes of byte-level BPE tokenizers (GPT-2, Llama-3,
// Qwen2), matched by hand-written code instead of a regex engine. Only these
// patterns are known; any other regex is rejected by `recognise`.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dcomp::tok {

/// Byte range [first, second) of one match inside the searched text.
using ByteSpan = std::pair<size_t, size_t>;

class SplitPattern {
 public:
  /// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  static SplitPattern gpt2();
  /// Llama-3 (and cl100k): (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
  ///   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  static SplitPattern llama3();
  /// Qwen2: the Llama-3 pattern with \p{N} (single digits) in place of \p{N}{1,3}.
  static SplitPattern qwen2();

  /// The pattern whose regex text (as stored in tokenizer.json, after JSON unescaping)
  /// is exactly `regex`; nullopt for any other regex.
  static std::optional<SplitPattern> recognise(std::string_view regex);

  /// The successive leftmost-first matches in `text` (well-formed UTF-8), as a regex
  /// engine's find-all would report them; bytes between matches are not covered.
  std::vector<ByteSpan> find_matches(std::string_view text) const;

  /// "gpt2", "llama3" or "qwen2".
  const std::string& name() const { return name_; }
  /// The regex text this pattern matches, as tokenizer.json stores it (recognise's input).
  std::string_view regex() const;

 private:
  enum class Family { kGpt2, kLlama3 };
  SplitPattern(Family family, size_t max_digits, std::string name)
      : family_(family), max_digits_(max_digits), name_(std::move(name)) {}

  Family family_;
  size_t max_digits_;  // longest digit run in one match; 0 = unbounded
  std::string name_;
};

}  // namespace dcomp::tok
