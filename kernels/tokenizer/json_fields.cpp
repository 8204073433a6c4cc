#include "kernels/tokenizer/json_fields.hpp"

#include "kernels/tokenizer/tokenizer.hpp"
#include "kernels/tokenizer/utf8.hpp"

namespace dcomp::tok {

void throw_tokenizer_error(const JsonContext& context, const std::string& message) {
  std::string text = context.source;
  if (!context.component.empty()) text += ": " + context.component;
  throw TokenizerError(text + ": " + message);
}

const nlohmann::json& require_field(const nlohmann::json& object, const char* key, const JsonContext& context) {
  if (!object.is_object()) throw_tokenizer_error(context, "expected a JSON object, found " + std::string(object.type_name()));
  const auto it = object.find(key);
  if (it == object.end()) throw_tokenizer_error(context, std::string("missing field \"") + key + "\"");
  return *it;
}

std::string require_string(const nlohmann::json& object, const char* key, const JsonContext& context) {
  const nlohmann::json& value = require_field(object, key, context);
  if (!value.is_string()) {
    throw_tokenizer_error(context, std::string("field \"") + key + "\" must be a string, found " + value.type_name());
  }
  return value.get<std::string>();
}

bool optional_bool(const nlohmann::json& object, const char* key, bool fallback, const JsonContext& context) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) {
    throw_tokenizer_error(context, std::string("field \"") + key + "\" must be a boolean, found " + it->type_name());
  }
  return it->get<bool>();
}

std::string component_type(const nlohmann::json& object, const JsonContext& context) {
  return require_string(object, "type", context);
}

std::string pattern_string(const nlohmann::json& pattern, const JsonContext& context, std::string* regex_out) {
  if (!pattern.is_object()) throw_tokenizer_error(context, "\"pattern\" must be an object with \"String\" or \"Regex\"");
  if (const auto it = pattern.find("String"); it != pattern.end() && it->is_string()) {
    std::string literal = it->get<std::string>();
    if (literal.empty()) throw_tokenizer_error(context, "empty \"String\" pattern");
    return literal;
  }
  if (const auto it = pattern.find("Regex"); it != pattern.end() && it->is_string()) {
    if (regex_out == nullptr) {
      throw_tokenizer_error(context, "unsupported \"Regex\" pattern \"" + it->get<std::string>() +
                                         "\" (only \"String\" patterns are supported here)");
    }
    *regex_out = it->get<std::string>();
    return {};
  }
  throw_tokenizer_error(context, "\"pattern\" must hold a \"String\" or a \"Regex\" string");
}

char32_t require_single_code_point(const nlohmann::json& object, const char* key, const JsonContext& context) {
  const std::string text = require_string(object, key, context);
  if (text.empty() || find_invalid_utf8(text) != std::string_view::npos || utf8_sequence_length(text, 0) != text.size()) {
    throw_tokenizer_error(context, std::string("field \"") + key + "\" must be exactly one character, found \"" + text + "\"");
  }
  size_t pos = 0;
  return next_code_point(text, pos);
}

}  // namespace dcomp::tok
