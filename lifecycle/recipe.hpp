// Recipes: the ordered list of modifiers to apply, read from llm-compressor
// YAML/JSON (`<name>_stage:` → `<group>_modifiers:` → `ClassName: {args}`) or
// built in code.
// reference: llm-compressor src/llmcompressor/recipe/recipe.py (Recipe.from_dict, create_instance)
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "lifecycle/modifier.hpp"
#include "lifecycle/modifier_registry.hpp"

namespace dcomp::lifecycle {

class Recipe {
 public:
  /// An empty recipe (no modifiers), stage "default".
  Recipe();

  /// Parses YAML or JSON text. All stages are flattened into one ordered list;
  /// with `target_stage`, only top-level keys starting with it are used.
  static Recipe from_text(const std::string& text, const std::string& source, const ModifierRegistry& registry,
                          const std::optional<std::string>& target_stage = std::nullopt);
  /// Reads a recipe file (.yaml, .yml, .json, or .md with front matter).
  static Recipe from_file(const std::filesystem::path& path, const ModifierRegistry& registry,
                          const std::optional<std::string>& target_stage = std::nullopt);
  /// The recipe text that create_instance(path_or_text) parses: the file's contents
  /// (the front matter of a .md file) when it names a file, otherwise the text itself.
  static std::string source_text(const std::string& path_or_text);
  /// A file path when such a file exists, otherwise recipe text.
  static Recipe create_instance(const std::string& path_or_text, const ModifierRegistry& registry,
                                const std::optional<std::string>& target_stage = std::nullopt);
  /// create_instance's recipe together with source_text's text, the file read once and
  /// parsed once (what a run applies and what it records of it).
  struct Loaded;
  static Loaded load(const std::string& path_or_text, const ModifierRegistry& registry);
  /// Modifiers built in code, stage "default".
  static Recipe from_modifiers(std::vector<ModifierPtr> modifiers);

  const std::vector<ModifierPtr>& modifiers() const { return modifiers_; }
  /// The last stage name read.
  const std::string& stage() const { return stage_; }
  /// The recipe's top-level `args` (kept, not substituted, as upstream).
  const YAML::Node& args() const { return args_; }
  void set_args(YAML::Node args) { args_ = std::move(args); }

  /// `{<stage>_stage: {<group>_modifiers: {ClassName: {args}}}}`.
  std::string to_yaml() const;

 private:
  std::vector<ModifierPtr> modifiers_;
  std::string stage_ = "default";
  YAML::Node args_;
};

struct Recipe::Loaded {
  std::string text;  // the recipe's text as applied (a file's contents; a .md file's front matter)
  Recipe recipe;
};

}  // namespace dcomp::lifecycle
