// JSON read from files dcomp does not control (config.json, tokenizer.json, shard
// indexes, safetensors headers, dataset rows), parsed within stated bounds: a size
// checked before the text is read, and a nesting depth checked while it is parsed, so
// that a hostile file is refused with its name and the limit instead of exhausting
// memory or the stack.
//
// reference: nlohmann-json's SAX interface (json::sax_parse, json_sax_dom_parser)
#pragma once

#include <cstdint>
#include <istream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace dcomp::json_input {

/// The deepest nesting of objects and arrays accepted (the top-level value is level 1).
/// Hugging Face configs and tokenizers nest fewer than 10 levels.
inline constexpr size_t kMaxJsonDepth = 64;
/// config.json, tokenizer_config.json, generation and quantization files, shard indexes.
inline constexpr uint64_t kMaxConfigJsonBytes = uint64_t{64} << 20;
/// tokenizer.json, which holds the vocabulary and merges (Gemma's is about 33 MB).
inline constexpr uint64_t kMaxTokenizerJsonBytes = uint64_t{512} << 20;

/// A JSON input beyond a bound; the message names the input and the limit.
class JsonLimitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct JsonLimits {
  uint64_t max_bytes = kMaxConfigJsonBytes;
  size_t max_depth = kMaxJsonDepth;
};

/// Parses `text` (named `source` in errors). Throws JsonLimitError when the text is
/// longer than limits.max_bytes or nests deeper than limits.max_depth; invalid JSON throws
/// nlohmann::json::exception as json::parse does. When `duplicate_top_level_key` is given,
/// it receives the first key that the top-level object repeats ("" when none does).
nlohmann::json parse_bounded_json(std::string_view text, const std::string& source, const JsonLimits& limits = {},
                                  std::string* duplicate_top_level_key = nullptr);

/// The rest of `stream` as text, refused with JsonLimitError naming `source` once it
/// exceeds `max_bytes` (at most max_bytes + 1 bytes are read).
std::string read_bounded_text(std::istream& stream, const std::string& source, uint64_t max_bytes);

/// "64 MiB", "512 MiB", "4 KiB", or a byte count: how limits are written in messages.
std::string byte_limit_text(uint64_t bytes);

}  // namespace dcomp::json_input
