// reference: llm-compressor src/llmcompressor/recipe/recipe.py
#include "lifecycle/recipe.hpp"

#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "lifecycle/errors.hpp"
#include "lifecycle/recipe_document.hpp"
#include "lifecycle/yaml_json.hpp"
#include "kernels/io/name_affixes.hpp"

namespace dcomp::lifecycle {
namespace {


std::string strip_suffix(const std::string& text, const std::string& suffix) {
  return text.substr(0, text.size() - suffix.size());
}

/// The YAML front matter of a Markdown recipe (between "---" or "+++" fences).
std::string front_matter(const std::string& text, const std::string& source) {
  std::istringstream in(text);
  std::string line, fence, body;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside) {
      if (line == "---" || line == "+++") {
        fence = line;
        inside = true;
      } else if (!line.empty()) {
        break;
      }
      continue;
    }
    if (line == fence) return body;
    body += line + "\n";
  }
  throw RecipeError(source + ": no YAML front matter (between '---' lines) found in the Markdown recipe");
}

YAML::Node parse_yaml(const std::string& text, const std::string& source) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    std::ostringstream out;
    out << source << ':' << e.mark.line + 1 << ':' << e.mark.column + 1 << ": invalid YAML: " << e.msg;
    throw RecipeError(out.str());
  }
}

YAML::Node load_yaml(const std::string& text, const std::string& source) {
  YAML::Node root = parse_yaml(text, source);
  check_recipe_document(root, source);
  return root;
}

// Builds a modifier. A YAML or JSON conversion error raised while it reads its
// arguments (a value of an unexpected kind deep inside them) becomes a RecipeError that
// names the recipe, the position and the modifier.
ModifierPtr create_modifier(const ModifierRegistry& registry, const std::string& class_name, ModifierArgs& args) {
  try {
    return registry.create(class_name, args);
  } catch (const YAML::Exception& error) {
    std::ostringstream out;
    out << args.source();
    if (!error.mark.is_null()) out << ':' << error.mark.line + 1 << ':' << error.mark.column + 1;
    out << ": " << class_name << " has an argument value of the wrong kind (" << error.msg << ")";
    throw RecipeError(out.str());
  } catch (const nlohmann::json::exception& error) {
    throw RecipeError(args.location() + ": " + class_name + " has an argument value of the wrong kind (" + error.what() +
                      ")");
  }
}

}  // namespace

Recipe::Recipe() = default;

Recipe Recipe::from_text(const std::string& text, const std::string& source, const ModifierRegistry& registry,
                         const std::optional<std::string>& target_stage) {
  YAML::Node root = load_yaml(text, source);
  Recipe recipe;
  if (!root || root.IsNull()) return recipe;  // an empty document is an empty recipe
  if (!root.IsMap()) {
    throw RecipeError(yaml_location(source, root) + ": a recipe must be a mapping of '<name>_stage' keys");
  }
  if (root["args"]) recipe.args_ = root["args"];
  for (auto stage_it = root.begin(); stage_it != root.end(); ++stage_it) {
    const std::string stage_key = stage_it->first.as<std::string>();
    if (target_stage && stage_key.rfind(*target_stage, 0) != 0) continue;
    if (!io::ends_with(stage_key, "_stage")) {
      if (stage_key != "args") {
        spdlog::warn("{}: ignoring top-level key '{}' (recipe stages end in '_stage')",
                     yaml_location(source, stage_it->first), stage_key);
      }
      continue;
    }
    if (!stage_it->second.IsMap()) {
      throw RecipeError(yaml_location(source, stage_it->second) + ": stage '" + stage_key +
                        "' must be a mapping of '<group>_modifiers' keys");
    }
    recipe.stage_ = strip_suffix(stage_key, "_stage");
    for (auto group_it = stage_it->second.begin(); group_it != stage_it->second.end(); ++group_it) {
      const std::string group_key = group_it->first.as<std::string>();
      if (!io::ends_with(group_key, "_modifiers")) {
        spdlog::warn("{}: ignoring key '{}' in stage '{}' (modifier groups end in '_modifiers')",
                     yaml_location(source, group_it->first), group_key, stage_key);
        continue;
      }
      if (!group_it->second.IsMap()) {
        throw RecipeError(yaml_location(source, group_it->second) + ": '" + group_key +
                          "' must be a mapping of modifier class names to their arguments");
      }
      const std::string inferred_group = strip_suffix(group_key, "_modifiers");
      for (auto mod_it = group_it->second.begin(); mod_it != group_it->second.end(); ++mod_it) {
        const std::string class_name = mod_it->first.as<std::string>();
        registry.require_known(class_name, yaml_location(source, mod_it->first));
        ModifierArgs args(mod_it->second, source, class_name);
        ModifierPtr modifier = create_modifier(registry, class_name, args);
        if (modifier->group.empty()) modifier->group = inferred_group;
        recipe.modifiers_.push_back(std::move(modifier));
      }
    }
  }
  return recipe;
}

namespace {

// The recipe text of a file: all of it, or the front matter of a .md file.
std::string recipe_file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RecipeError(path.string() + ": cannot open the recipe file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (path.extension() == ".md") text = front_matter(text, path.string());
  return text;
}

bool names_a_file(const std::string& path_or_text) {
  std::error_code error;
  return path_or_text.find('\n') == std::string::npos && std::filesystem::is_regular_file(path_or_text, error);
}

}  // namespace

Recipe Recipe::from_file(const std::filesystem::path& path, const ModifierRegistry& registry,
                         const std::optional<std::string>& target_stage) {
  return from_text(recipe_file_text(path), path.string(), registry, target_stage);
}

std::string Recipe::source_text(const std::string& path_or_text) {
  return names_a_file(path_or_text) ? recipe_file_text(path_or_text) : path_or_text;
}

Recipe Recipe::create_instance(const std::string& path_or_text, const ModifierRegistry& registry,
                               const std::optional<std::string>& target_stage) {
  if (names_a_file(path_or_text)) return from_file(path_or_text, registry, target_stage);
  return from_text(path_or_text, "<recipe string>", registry, target_stage);
}

Recipe::Loaded Recipe::load(const std::string& path_or_text, const ModifierRegistry& registry) {
  if (!names_a_file(path_or_text)) return {path_or_text, from_text(path_or_text, "<recipe string>", registry)};
  std::string text = recipe_file_text(path_or_text);
  Recipe recipe = from_text(text, path_or_text, registry);
  return {std::move(text), std::move(recipe)};
}

Recipe Recipe::from_modifiers(std::vector<ModifierPtr> modifiers) {
  Recipe recipe;
  for (auto& modifier : modifiers) {
    if (!modifier) throw RecipeError("recipe: a modifier in the list is null");
  }
  recipe.modifiers_ = std::move(modifiers);
  return recipe;
}

std::string Recipe::to_yaml() const {
  // Modifiers are written in their order (the order they are applied in): consecutive
  // ones of a group share its "<group>_modifiers" mapping. A group that comes back after
  // another, or a second modifier of a class already in the mapping (class names are its
  // keys), goes to the next free "<group>_1_modifiers", "<group>_2_modifiers", ...
  nlohmann::ordered_json stage = nlohmann::ordered_json::object();
  std::string current_group, current_key;
  for (const auto& modifier : modifiers_) {
    const std::string group = modifier->group.empty() ? stage_ : modifier->group;
    if (current_key.empty() || group != current_group || stage[current_key].contains(modifier->class_name())) {
      current_group = group;
      current_key = group + "_modifiers";
      for (int n = 1; stage.contains(current_key); ++n) current_key = group + "_" + std::to_string(n) + "_modifiers";
    }
    stage[current_key][modifier->class_name()] = modifier->serialize_args();
  }
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << (stage_ + "_stage") << YAML::Value << YAML::BeginMap;
  for (auto& [group_key, group] : stage.items()) {
    out << YAML::Key << group_key << YAML::Value << YAML::BeginMap;
    for (auto& [class_name, args] : group.items()) {
      out << YAML::Key << class_name << YAML::Value;
      emit_json_as_yaml(out, nlohmann::json(args));
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace dcomp::lifecycle
