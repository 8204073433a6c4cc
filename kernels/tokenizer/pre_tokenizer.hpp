// The "pre_tokenizer" of a tokenizer.json: Metaspace, ByteLevel (with the GPT-2
// split regex when use_regex), Split (literal or a known regex), Digits and Sequence.
// It cuts normalized text into the words that BPE encodes one at a time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/tokenizer/json_fields.hpp"
#include "kernels/tokenizer/split_pattern.hpp"

namespace dcomp::tok {

/// A piece of text on its way through the pre-tokenizer steps.
struct PreToken {
  std::string text;
  bool at_input_start;  // begins at offset 0 of the text given to encode (Metaspace "first")
};

class PreTokenizer {
 public:
  /// Parses a pre_tokenizer object; nested Sequences are flattened. Unsupported types
  /// and unknown split regexes throw TokenizerError naming them.
  static PreTokenizer from_json(const nlohmann::json& node, const JsonContext& context);

  /// The words of `piece`, in order, empty words left out; throws TokenizerError when
  /// the steps grow the text past its GrowthLimit.
  std::vector<PreToken> split(PreToken piece) const;

 private:
  enum class Delimiter { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
  enum class Prepend { kAlways, kFirst, kNever };
  struct Step {
    enum class Kind { kMetaspace, kByteLevel, kSplit, kDigits } kind;
    // Metaspace
    std::string replacement;  // UTF-8 of the replacement character
    Prepend prepend = Prepend::kAlways;
    bool split_on_replacement = true;
    // ByteLevel
    bool add_prefix_space = false;
    bool use_regex = true;
    // Split
    std::string literal;                 // the String pattern, when not a regex
    std::optional<SplitPattern> regex;   // the Regex pattern
    Delimiter behavior = Delimiter::kIsolated;
    bool invert = false;
    // Digits
    bool individual_digits = false;
  };

  static void append_steps(const nlohmann::json& node, const JsonContext& context, std::vector<Step>& steps);
  static void apply_step(const Step& step, PreToken piece, std::vector<PreToken>& out);

  JsonContext context_;  // the file and "pre_tokenizer", for errors
  std::vector<Step> steps_;
};

}  // namespace dcomp::tok
