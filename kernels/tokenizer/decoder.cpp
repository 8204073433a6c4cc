// reference: huggingface/tokenizers decoders/{mod,sequence,byte_fallback,fuse,strip}.rs,
// normalizers/replace.rs (Replace as a decoder), pre_tokenizers/metaspace.rs and
// pre_tokenizers/byte_level.rs (their decode_chain).
#include "kernels/tokenizer/decoder.hpp"

#include <cstdlib>
#include <optional>

#include "kernels/tokenizer/byte_level.hpp"
#include "kernels/tokenizer/text_replace.hpp"
#include "kernels/tokenizer/utf8.hpp"

namespace dcomp::tok {
namespace {

size_t optional_count(const nlohmann::json& node, const char* key, const JsonContext& context) {
  const auto it = node.find(key);
  if (it == node.end() || it->is_null()) return 0;
  if (!it->is_number_unsigned()) throw_tokenizer_error(context, std::string("field \"") + key + "\" must be a non-negative integer");
  return it->get<size_t>();
}

// The byte a "<0xXX>" token stands for.
std::optional<unsigned char> byte_token_value(const std::string& token) {
  if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return std::nullopt;
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int high = hex(token[3]), low = hex(token[4]);
  if (high < 0 || low < 0) return std::nullopt;
  return static_cast<unsigned char>(high * 16 + low);
}

// Code points of a UTF-8 string (tokens are well formed: they come from the vocabulary).
std::vector<std::string> characters_of(const std::string& text) {
  std::vector<std::string> characters;
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = utf8_sequence_length(text, pos);
    characters.push_back(text.substr(pos, length));
    pos += length;
  }
  return characters;
}

size_t total_size(const std::vector<std::string>& tokens) {
  size_t total = 0;
  for (const std::string& token : tokens) total += token.size();
  return total;
}

}  // namespace

Decoder Decoder::from_json(const nlohmann::json& node, const JsonContext& context) {
  Decoder decoder;
  decoder.context_ = context.with_component("decoder");
  append_steps(node, decoder.context_, decoder.steps_);
  return decoder;
}

void Decoder::append_steps(const nlohmann::json& node, const JsonContext& context, std::vector<Step>& steps) {
  const std::string type = component_type(node, context);
  const JsonContext typed = context.with_component(context.component + " '" + type + "'");
  Step step;
  if (type == "Sequence") {
    const nlohmann::json& children = require_field(node, "decoders", typed);
    if (!children.is_array()) throw_tokenizer_error(typed, "\"decoders\" must be a list");
    for (const nlohmann::json& child : children) append_steps(child, context, steps);
    return;
  }
  if (type == "Replace") {
    step.kind = Step::Kind::kReplace;
    step.pattern = pattern_string(require_field(node, "pattern", typed), typed);
    step.content = require_string(node, "content", typed);
  } else if (type == "ByteFallback") {
    step.kind = Step::Kind::kByteFallback;
  } else if (type == "Fuse") {
    step.kind = Step::Kind::kFuse;
  } else if (type == "Strip") {
    step.kind = Step::Kind::kStrip;
    append_utf8(step.content, require_single_code_point(node, "content", typed));
    step.strip_start = optional_count(node, "start", typed);
    step.strip_stop = optional_count(node, "stop", typed);
  } else if (type == "Metaspace") {
    step.kind = Step::Kind::kMetaspace;
    append_utf8(step.content, node.contains("replacement") ? require_single_code_point(node, "replacement", typed) : U'\u2581');
    if (const auto scheme = node.find("prepend_scheme"); scheme != node.end() && !scheme->is_null()) {
      step.metaspace_strip_first = !(scheme->is_string() && scheme->get<std::string>() == "never");
    } else {
      step.metaspace_strip_first = optional_bool(node, "add_prefix_space", true, typed);
    }
  } else if (type == "ByteLevel") {
    step.kind = Step::Kind::kByteLevel;
  } else {
    throw_tokenizer_error(typed, "unsupported decoder type (supported: Sequence, Replace, ByteFallback, Fuse, Strip, "
                                 "Metaspace, ByteLevel)");
  }
  steps.push_back(std::move(step));
}

// Only Replace can grow the tokens by more than half (the others shrink them or turn
// a byte into U+FFFD), so it is bounded while it runs and the others after each step.
void Decoder::apply_step(const Step& step, std::vector<std::string>& tokens, const GrowthLimit& limit) {
  switch (step.kind) {
    case Step::Kind::kReplace: {
      size_t total = total_size(tokens);
      for (std::string& token : tokens) {
        const size_t others = total - token.size();
        if (others > limit.max_size()) limit.fail();
        std::optional<std::string> replaced =
            replace_all_within(token, step.pattern, step.content, limit.max_size() - others);
        if (!replaced) limit.fail();
        token = std::move(*replaced);
        total = others + token.size();
      }
      return;
    }
    case Step::Kind::kByteFallback: {
      // Runs of <0xXX> tokens become their UTF-8 text, or one U+FFFD per byte when ill formed.
      std::vector<std::string> out;
      out.reserve(tokens.size());
      std::string bytes;
      const auto flush = [&] {
        if (bytes.empty()) return;
        if (find_invalid_utf8(bytes) == std::string::npos) {
          out.push_back(bytes);
        } else {
          for (size_t i = 0; i < bytes.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
        }
        bytes.clear();
      };
      for (std::string& token : tokens) {
        if (const auto byte = byte_token_value(token)) {
          bytes.push_back(static_cast<char>(*byte));
        } else {
          flush();
          out.push_back(std::move(token));
        }
      }
      flush();
      tokens = std::move(out);
      return;
    }
    case Step::Kind::kFuse: {
      std::string joined;
      for (const std::string& token : tokens) joined += token;
      tokens.assign(1, std::move(joined));
      return;
    }
    case Step::Kind::kStrip:
      for (std::string& token : tokens) {
        const std::vector<std::string> characters = characters_of(token);
        size_t begin = 0, end = characters.size();
        while (begin < step.strip_start && begin < end && characters[begin] == step.content) ++begin;
        size_t stripped_at_end = 0;
        while (stripped_at_end < step.strip_stop && end > begin && characters[end - 1] == step.content) {
          --end;
          ++stripped_at_end;
        }
        std::string kept;
        for (size_t i = begin; i < end; ++i) kept += characters[i];
        token = std::move(kept);
      }
      return;
    case Step::Kind::kMetaspace:
      for (size_t i = 0; i < tokens.size(); ++i) {
        tokens[i] = replace_all(tokens[i], step.content, (i == 0 && step.metaspace_strip_first) ? "" : " ");
      }
      return;
    case Step::Kind::kByteLevel: {
      // Each token's characters back to bytes (a token with other characters, such as an
      // added token, keeps its own UTF-8 bytes); the whole as lossy UTF-8.
      std::string bytes;
      for (const std::string& token : tokens) {
        if (!byte_level_decode_append(token, bytes)) bytes += token;
      }
      tokens.assign(1, utf8_lossy(bytes));
      return;
    }
  }
}

std::string Decoder::decode(std::vector<std::string> tokens) const {
  const GrowthLimit limit(context_, total_size(tokens));
  for (const Step& step : steps_) {
    apply_step(step, tokens, limit);
    limit.check(total_size(tokens));
  }
  std::string text;
  for (const std::string& token : tokens) text += token;
  return text;
}

}  // namespace dcomp::tok
