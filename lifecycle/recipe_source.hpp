// What initialize() accepts as a recipe: nothing (an empty recipe), a file
// path or recipe text, a Recipe, or modifiers built in code.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "lifecycle/recipe.hpp"

namespace dcomp::lifecycle {

using RecipeSource = std::variant<std::monostate, std::string, Recipe, std::vector<ModifierPtr>>;

/// Builds the recipe as CompressionLifecycle.initialize does: an empty source
/// (or empty string) gives an empty recipe; `recipe_args` are stored on it.
Recipe make_recipe(const RecipeSource& source, const std::optional<std::string>& recipe_stage,
                   const std::optional<YAML::Node>& recipe_args, const ModifierRegistry& registry);

}  // namespace dcomp::lifecycle
