// Typed, checked access to one modifier's recipe arguments. Every key a
// modifier asks for becomes "known"; after construction, any other key in the
// recipe is rejected with its file, line and column and the list of known keys.
#pragma once

#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "lifecycle/errors.hpp"

namespace dcomp::lifecycle {

class ModifierArgs {
 public:
  /// `node` is the YAML mapping under the class name (null for "no arguments");
  /// `source` names the recipe in messages ("recipe.yaml", "<string>").
  ModifierArgs(YAML::Node node, std::string source, std::string class_name);
  /// No arguments (modifiers built in code).
  explicit ModifierArgs(std::string class_name);

  const std::string& class_name() const { return class_name_; }
  const std::string& source() const { return source_; }

  bool has(const std::string& key);
  /// The value converted to T, or nullopt when absent or null.
  template <class T>
  std::optional<T> optional(const std::string& key);
  template <class T>
  T get(const std::string& key, T default_value) {
    auto value = optional<T>(key);
    return value ? *value : default_value;
  }
  /// A string or a list of strings.
  std::optional<std::vector<std::string>> string_list(const std::string& key);
  /// The raw YAML node (undefined when absent); the key becomes known.
  YAML::Node raw(const std::string& key);

  /// "file:line:column" of the key's value, or of the modifier when key is empty.
  std::string location(const std::string& key = "") const;
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  /// An llm-compressor argument dcomp does not support: known (so the reference lists
  /// it with `reason`), and a RecipeError naming the key and `reason` when the recipe
  /// sets it to anything but null.
  void refuse(const std::string& key, const std::string& reason);
  /// An argument llm-compressor has deprecated and dcomp ignores: known, and a warning
  /// naming it and `why` when the recipe sets it.
  void ignore_deprecated(const std::string& key, const std::string& why);
  /// ignore_deprecated("sequential_update", ...): the GPTQ, SparseGPT and quantization
  /// modifiers' old switch, which dcomp's layer-by-layer pipeline makes moot.
  void ignore_sequential_update();
  /// Throws RecipeError for every key that was never asked for.
  void reject_unknown() const;

  /// Every key asked for so far, refused and ignored ones included, and those with their reasons.
  const std::set<std::string>& known() const { return known_; }
  const std::map<std::string, std::string>& refused() const { return refused_; }
  const std::map<std::string, std::string>& ignored() const { return ignored_; }

 private:
  YAML::Node value_of(const std::string& key) const;

  YAML::Node node_;
  std::string source_;
  std::string class_name_;
  std::set<std::string> known_;
  std::map<std::string, std::string> refused_;
  std::map<std::string, std::string> ignored_;
};

template <class T>
std::optional<T> ModifierArgs::optional(const std::string& key) {
  known_.insert(key);
  YAML::Node value = value_of(key);
  if (!value || value.IsNull()) return std::nullopt;
  T converted{};
  try {
    converted = value.as<T>();
  } catch (const YAML::Exception&) {
    fail(key, "has a value of the wrong type");
  }
  // YAML's .nan and .inf read as numbers; no modifier argument means anything by them.
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(converted)) fail(key, "must be a finite number, not " + value.Scalar());
  }
  return converted;
}

/// "file:line:column" for any YAML node (1-based).
std::string yaml_location(const std::string& source, const YAML::Node& node);

}  // namespace dcomp::lifecycle
