#include "lifecycle/modifier_registry.hpp"

#include <yaml-cpp/yaml.h>

namespace dcomp::lifecycle {

void ModifierRegistry::add(const std::string& class_name, ModifierFactory factory, ModifierSummary summary) {
  if (unsupported_.count(class_name) || !entries_.emplace(class_name, Entry{std::move(factory), std::move(summary)}).second) {
    throw LifecycleError("modifier '" + class_name + "' is registered twice");
  }
}

void ModifierRegistry::add_unsupported(const std::string& class_name, const std::string& reason) {
  if (entries_.count(class_name) || !unsupported_.emplace(class_name, reason).second) {
    throw LifecycleError("modifier '" + class_name + "' is registered twice");
  }
}

bool ModifierRegistry::contains(const std::string& class_name) const { return entries_.count(class_name) > 0; }

std::vector<std::string> ModifierRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& entry : entries_) out.push_back(entry.first);
  return out;
}

void ModifierRegistry::require_known(const std::string& class_name, const std::string& location) const {
  if (contains(class_name)) return;
  std::string known;
  for (const auto& name : names()) known += (known.empty() ? "" : ", ") + name;
  if (known.empty()) known = "(none)";
  if (auto it = unsupported_.find(class_name); it != unsupported_.end()) {
    throw RecipeError(location + ": '" + class_name + "' is not implemented by dcomp (" + it->second +
                      "); dcomp implements: " + known);
  }
  throw RecipeError(location + ": unknown modifier '" + class_name + "'; known modifiers: " + known);
}

ModifierPtr ModifierRegistry::create(const std::string& class_name, ModifierArgs& args) const {
  require_known(class_name, args.location());
  ModifierPtr modifier = entries_.at(class_name).factory(args);
  modifier->read_common_args(args);
  args.reject_unknown();
  return modifier;
}

std::vector<ModifierDescription> ModifierRegistry::describe() const {
  std::vector<ModifierDescription> out;
  for (const auto& [name, entry] : entries_) {
    ModifierArgs args(YAML::Load(entry.summary.example_args), "<example of " + name + ">", name);
    try {
      create(name, args);
    } catch (const std::exception& error) {
      throw LifecycleError("the example arguments of " + name + " are not valid: " + error.what());
    }
    ModifierDescription description{name, entry.summary.what, entry.summary.example_args, {}, args.refused(),
                                    args.ignored()};
    for (const auto& key : args.known()) {
      if (!description.refused.count(key) && !description.ignored.count(key)) description.accepted.push_back(key);
    }
    out.push_back(std::move(description));
  }
  return out;
}

}  // namespace dcomp::lifecycle
