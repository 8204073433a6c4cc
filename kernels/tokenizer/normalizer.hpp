// The "normalizer" of a tokenizer.json: Sequence, Prepend and Replace (with a
// literal pattern), as used by SentencePiece-style Llama tokenizers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/tokenizer/json_fields.hpp"

namespace dcomp::tok {

class Normalizer {
 public:
  /// Parses a normalizer object; nested Sequences are flattened. Unsupported types
  /// (NFC, Lowercase, Regex patterns, ...) throw TokenizerError naming them.
  static Normalizer from_json(const nlohmann::json& node, const JsonContext& context);

  /// The normalized form of `text`; throws TokenizerError when the steps grow it past
  /// its GrowthLimit.
  std::string apply(std::string text) const;

 private:
  struct Step {
    enum class Kind { kPrepend, kReplace } kind;
    std::string pattern;  // Replace: the literal text replaced
    std::string content;  // Prepend: the prefix; Replace: the replacement
  };
  static void append_steps(const nlohmann::json& node, const JsonContext& context, std::vector<Step>& steps);

  JsonContext context_;  // the file and "normalizer", for errors
  std::vector<Step> steps_;
};

}  // namespace dcomp::tok
