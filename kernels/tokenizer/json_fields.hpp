// Field access on the parsed tokenizer.json with errors that name the file, the
// component being read and the problem.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace dcomp::tok {

/// Where a JSON node comes from: the file (or the `source` given to from_json) and the
/// component inside it, e.g. "pre_tokenizer 'Metaspace'".
struct JsonContext {
  std::string source;
  std::string component;

  /// The same file, another component.
  JsonContext with_component(std::string name) const { return {source, std::move(name)}; }
};

/// Throws TokenizerError "<source>: <component>: <message>".
[[noreturn]] void throw_tokenizer_error(const JsonContext& context, const std::string& message);

/// The member `key` of `object`; throws when `object` is not an object or lacks it.
const nlohmann::json& require_field(const nlohmann::json& object, const char* key, const JsonContext& context);

/// The string member `key`; throws when absent or not a string.
std::string require_string(const nlohmann::json& object, const char* key, const JsonContext& context);

/// The boolean member `key`, or `fallback` when absent or null; throws when of another type.
bool optional_bool(const nlohmann::json& object, const char* key, bool fallback, const JsonContext& context);

/// The "type" member of a component object.
std::string component_type(const nlohmann::json& object, const JsonContext& context);

/// The literal text of a {"String": "..."} pattern. A {"Regex": ...} pattern is rejected
/// with an error naming it unless `regex_out` is given, which then receives the regex text
/// (and the function returns an empty string).
std::string pattern_string(const nlohmann::json& pattern, const JsonContext& context, std::string* regex_out = nullptr);

/// A string member holding exactly one code point (Metaspace replacement, Strip content).
char32_t require_single_code_point(const nlohmann::json& object, const char* key, const JsonContext& context);

}  // namespace dcomp::tok
