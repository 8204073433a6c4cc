// Checks on a parsed recipe document before it is read: what YAML permits but a
// recipe cannot hold.
#pragma once

#include <cstddef>
#include <string>

#include <yaml-cpp/yaml.h>

namespace dcomp::lifecycle {

/// A YAML alias repeats the node it names, so a small file can stand for an enormous
/// tree (nested aliases) or an infinite one (an alias inside the node it names).
constexpr size_t kMaxRecipeNodes = 100'000;
constexpr size_t kMaxRecipeDepth = 64;

/// Throws RecipeError "<source>:line:column: problem" for text that is not valid UTF-8,
/// a mapping key that is not a scalar or appears twice in one mapping (YAML requires unique keys, and readers
/// disagree on which value wins), an alias inside the node it names, or a document
/// whose aliases expand it beyond kMaxRecipeNodes nodes or kMaxRecipeDepth levels.
void check_recipe_document(const YAML::Node& root, const std::string& source);

}  // namespace dcomp::lifecycle
