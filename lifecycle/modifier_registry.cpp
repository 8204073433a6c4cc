#include "lifecycle/modifier_registry.hpp"

namespace dcomp::lifecycle {

void ModifierRegistry::add(const std::string& class_name, ModifierFactory factory) {
  if (!factories_.emplace(class_name, std::move(factory)).second) {
    throw LifecycleError("modifier '" + class_name + "' is registered twice");
  }
}

bool ModifierRegistry::contains(const std::string& class_name) const { return factories_.count(class_name) > 0; }

std::vector<std::string> ModifierRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& entry : factories_) out.push_back(entry.first);
  return out;
}

void ModifierRegistry::require_known(const std::string& class_name, const std::string& location) const {
  if (contains(class_name)) return;
  std::string known;
  for (const auto& name : names()) known += (known.empty() ? "" : ", ") + name;
  throw RecipeError(location + ": unknown modifier '" + class_name + "'; known modifiers: " +
                    (known.empty() ? "(none)" : known));
}

ModifierPtr ModifierRegistry::create(const std::string& class_name, ModifierArgs& args) const {
  require_known(class_name, args.location());
  auto it = factories_.find(class_name);
  ModifierPtr modifier = it->second(args);
  modifier->read_common_args(args);
  args.reject_unknown();
  return modifier;
}

}  // namespace dcomp::lifecycle
