#include "lifecycle/modifier_args.hpp"

#include <spdlog/spdlog.h>

#include <mutex>
#include <set>
#include <sstream>

namespace dcomp::lifecycle {

std::string yaml_location(const std::string& source, const YAML::Node& node) {
  std::ostringstream out;
  out << source;
  if (node && node.Mark().line >= 0) out << ':' << node.Mark().line + 1 << ':' << node.Mark().column + 1;
  return out.str();
}

ModifierArgs::ModifierArgs(YAML::Node node, std::string source, std::string class_name)
    : node_(std::move(node)), source_(std::move(source)), class_name_(std::move(class_name)) {
  if (node_ && !node_.IsNull() && !node_.IsMap()) {
    throw RecipeError(yaml_location(source_, node_) + ": arguments of " + class_name_ +
                      " must be a mapping of argument names to values");
  }
}

ModifierArgs::ModifierArgs(std::string class_name) : source_("<code>"), class_name_(std::move(class_name)) {}

YAML::Node ModifierArgs::value_of(const std::string& key) const {
  if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.as<std::string>() == key) return it->second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

bool ModifierArgs::has(const std::string& key) {
  known_.insert(key);
  YAML::Node value = value_of(key);
  return value && !value.IsNull();
}

std::optional<std::vector<std::string>> ModifierArgs::string_list(const std::string& key) {
  known_.insert(key);
  YAML::Node value = value_of(key);
  if (!value || value.IsNull()) return std::nullopt;
  std::vector<std::string> out;
  try {
    if (value.IsScalar()) {
      out.push_back(value.as<std::string>());
    } else if (value.IsSequence()) {
      for (const auto& item : value) out.push_back(item.as<std::string>());
    } else {
      fail(key, "must be a string or a list of strings");
    }
  } catch (const YAML::Exception&) {
    fail(key, "must be a string or a list of strings");
  }
  return out;
}

YAML::Node ModifierArgs::raw(const std::string& key) {
  known_.insert(key);
  return value_of(key);
}

std::string ModifierArgs::location(const std::string& key) const {
  if (!key.empty()) {
    YAML::Node value = value_of(key);
    if (value) return yaml_location(source_, value);
  }
  return yaml_location(source_, node_);
}

void ModifierArgs::fail(const std::string& key, const std::string& problem) const {
  throw RecipeError(location(key) + ": " + class_name_ + (key.empty() ? "" : " argument '" + key + "'") + " " +
                    problem);
}

void ModifierArgs::refuse(const std::string& key, const std::string& reason) {
  refused_[key] = reason;
  if (has(key)) fail(key, reason);
}

void ModifierArgs::ignore_deprecated(const std::string& key, const std::string& why) {
  ignored_[key] = why;
  if (!has(key)) return;
  // A recipe may be read more than once (checked, then built per rank): one warning per place.
  static std::mutex mutex;
  static std::set<std::string> warned;
  const std::string where = location(key);
  std::lock_guard<std::mutex> lock(mutex);
  if (warned.insert(where + " " + class_name_ + "." + key).second) {
    spdlog::warn("{}: {} argument '{}' is ignored: {}", where, class_name_, key, why);
  }
}

void ModifierArgs::ignore_sequential_update() {
  ignore_deprecated("sequential_update",
                    "deprecated in llm-compressor; dcomp always compresses layer by layer, each layer calibrated on "
                    "the outputs of the compressed layers before it");
}

void ModifierArgs::reject_unknown() const {
  if (!node_ || !node_.IsMap()) return;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    std::string key = it->first.as<std::string>();
    if (known_.count(key)) continue;
    std::ostringstream known;
    bool first = true;
    for (const auto& name : known_) {
      known << (first ? "" : ", ") << name;
      first = false;
    }
    throw RecipeError(yaml_location(source_, it->first) + ": " + class_name_ + " has no argument '" + key +
                      "'; known arguments: " + known.str());
  }
}

}  // namespace dcomp::lifecycle
