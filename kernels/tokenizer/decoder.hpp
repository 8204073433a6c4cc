// The "decoder" of a tokenizer.json: Sequence of Replace, ByteFallback, Fuse,
// Strip, Metaspace and ByteLevel, turning token strings back into text.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/tokenizer/growth_limit.hpp"
#include "kernels/tokenizer/json_fields.hpp"

namespace dcomp::tok {

class Decoder {
 public:
  /// Parses a decoder object; nested Sequences are flattened. Unsupported types throw
  /// TokenizerError naming them.
  static Decoder from_json(const nlohmann::json& node, const JsonContext& context);

  /// The text of `tokens`: every step rewrites the token list, then the tokens are joined.
  /// Throws TokenizerError when the steps grow the tokens past their GrowthLimit.
  std::string decode(std::vector<std::string> tokens) const;

 private:
  struct Step {
    enum class Kind { kReplace, kByteFallback, kFuse, kStrip, kMetaspace, kByteLevel } kind;
    std::string pattern;      // Replace
    std::string content;      // Replace: replacement; Strip/Metaspace: the character (UTF-8)
    size_t strip_start = 0;   // Strip: at most this many leading `content` characters removed
    size_t strip_stop = 0;    // Strip: at most this many trailing ones
    bool metaspace_strip_first = true;  // Metaspace: drop the replacement characters of the first token
  };
  static void append_steps(const nlohmann::json& node, const JsonContext& context, std::vector<Step>& steps);
  static void apply_step(const Step& step, std::vector<std::string>& tokens, const GrowthLimit& limit);

  JsonContext context_;  // the file and "decoder", for errors
  std::vector<Step> steps_;
};

}  // namespace dcomp::tok
