#include "lifecycle/yaml_json.hpp"

#include <cstdlib>

namespace dcomp::lifecycle {
namespace {

enum class NumberKind { kNone, kInteger, kFloat };

// Integer: [-+]?[0-9]+ ; float: [-+]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?
// Scanned by hand: std::regex recurses once per character and overflows the stack on
// long scalars.
NumberKind number_kind(const std::string& text) {
  size_t pos = 0;
  const auto sign = [&] {
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
  };
  const auto digits = [&] {
    const size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    return pos - start;
  };
  sign();
  const size_t integer_digits = digits();
  bool floating = false;
  size_t fraction_digits = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    fraction_digits = digits();
    floating = true;
  }
  if (integer_digits == 0 && fraction_digits == 0) return NumberKind::kNone;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    sign();
    if (digits() == 0) return NumberKind::kNone;
    floating = true;
  }
  if (pos != text.size()) return NumberKind::kNone;
  return floating ? NumberKind::kFloat : NumberKind::kInteger;
}

// What a plain (unquoted) scalar with this text reads as.
nlohmann::json plain_scalar_to_json(const std::string& text) {
  if (text == "null" || text == "Null" || text == "NULL" || text == "~" || text.empty()) return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  switch (number_kind(text)) {
    case NumberKind::kInteger: return std::strtoll(text.c_str(), nullptr, 10);
    case NumberKind::kFloat: return std::strtod(text.c_str(), nullptr);
    case NumberKind::kNone: break;
  }
  return text;
}

nlohmann::json scalar_to_json(const YAML::Node& node) {
  if (node.Tag() == "!") return node.Scalar();  // quoted: always a string
  return plain_scalar_to_json(node.Scalar());
}

}  // namespace

nlohmann::json yaml_to_json(const YAML::Node& node) {
  if (!node || node.IsNull()) return nullptr;
  if (node.IsScalar()) return scalar_to_json(node);
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : node) out.push_back(yaml_to_json(item));
    return out;
  }
  nlohmann::json out = nlohmann::json::object();
  for (auto it = node.begin(); it != node.end(); ++it) out[it->first.as<std::string>()] = yaml_to_json(it->second);
  return out;
}

void emit_json_as_yaml(YAML::Emitter& out, const nlohmann::json& value) {
  if (value.is_object()) {
    out << YAML::BeginMap;
    for (auto& [key, item] : value.items()) {
      out << YAML::Key << key << YAML::Value;
      emit_json_as_yaml(out, item);
    }
    out << YAML::EndMap;
  } else if (value.is_array()) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& item : value) emit_json_as_yaml(out, item);
    out << YAML::EndSeq;
  } else if (value.is_string()) {
    // Quoted when, written plain, it would read back as null, a boolean or a number, or
    // when it holds a carriage return: yaml-cpp writes that plain, where the line break
    // after it would make it part of a CRLF and drop it on reading.
    const auto& text = value.get_ref<const std::string&>();
    if (!plain_scalar_to_json(text).is_string() || text.find('\r') != std::string::npos) out << YAML::DoubleQuoted;
    out << text;
  } else if (value.is_boolean()) {
    out << value.get<bool>();
  } else if (value.is_number_integer()) {
    out << value.get<int64_t>();
  } else if (value.is_number()) {
    out << value.get<double>();
  } else {
    out << YAML::Null;
  }
}

}  // namespace dcomp::lifecycle
