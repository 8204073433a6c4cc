// Modifiers by class name, as recipes name them ("GPTQModifier").
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lifecycle/modifier.hpp"
#include "lifecycle/modifier_args.hpp"

namespace dcomp::lifecycle {

/// Builds a modifier from its recipe arguments (reading every key it knows).
using ModifierFactory = std::function<ModifierPtr(ModifierArgs& args)>;

class ModifierRegistry {
 public:
  /// Registers `class_name`; throws LifecycleError when it is already registered.
  void add(const std::string& class_name, ModifierFactory factory);
  bool contains(const std::string& class_name) const;
  std::vector<std::string> names() const;  // sorted
  /// Throws RecipeError "<location>: unknown modifier 'X'; known modifiers: ...".
  void require_known(const std::string& class_name, const std::string& location) const;
  /// Builds the modifier, reads the common scheduling arguments and rejects
  /// unknown arguments. Unknown class names raise RecipeError at `args`'s location,
  /// listing the known names.
  ModifierPtr create(const std::string& class_name, ModifierArgs& args) const;

  /// Every modifier dcomp implements.
  static const ModifierRegistry& builtin();

 private:
  std::map<std::string, ModifierFactory> factories_;
};

}  // namespace dcomp::lifecycle
