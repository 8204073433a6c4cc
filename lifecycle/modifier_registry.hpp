// Modifiers by class name, as recipes name them ("GPTQModifier"), with what each
// accepts: the reference in the README is generated from here (`dcomp modifiers`).
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

/// What the reference says of a modifier besides its arguments.
struct ModifierSummary {
  std::string what;          // one line: what it does
  std::string example_args;  // a YAML mapping of the arguments a minimal valid use needs ("{}" for none)
};

/// A modifier's arguments as its parser reads them.
struct ModifierDescription {
  std::string class_name;
  std::string what;
  std::string example_args;                    // the YAML mapping the description was read with
  std::vector<std::string> accepted;          // sorted, the scheduling arguments (start, end, ...) included
  std::map<std::string, std::string> refused;  // key → why dcomp refuses it
  std::map<std::string, std::string> ignored;  // key → why dcomp accepts and ignores it
};

class ModifierRegistry {
 public:
  /// Registers `class_name`; throws LifecycleError when it is already registered.
  void add(const std::string& class_name, ModifierFactory factory, ModifierSummary summary = {"", "{}"});
  /// An llm-compressor modifier dcomp does not implement, and why: a recipe naming it is
  /// refused with that reason.
  void add_unsupported(const std::string& class_name, const std::string& reason);
  bool contains(const std::string& class_name) const;
  std::vector<std::string> names() const;  // sorted
  /// Throws RecipeError "<location>: unknown modifier 'X'; known modifiers: ...", or for
  /// an unsupported one "<location>: 'X' is not implemented by dcomp (reason); ...".
  void require_known(const std::string& class_name, const std::string& location) const;
  /// Builds the modifier, reads the common scheduling arguments and rejects
  /// unknown arguments. Unknown class names raise RecipeError at `args`'s location,
  /// listing the known names.
  ModifierPtr create(const std::string& class_name, ModifierArgs& args) const;

  /// Each modifier's arguments, found by building it from its example arguments and
  /// recording every key its parser reads (throws LifecycleError when an example is invalid).
  std::vector<ModifierDescription> describe() const;
  /// The unsupported modifiers by class name, with their reasons.
  const std::map<std::string, std::string>& unsupported() const { return unsupported_; }

  /// Every modifier dcomp implements.
  static const ModifierRegistry& builtin();

 private:
  struct Entry {
    ModifierFactory factory;
    ModifierSummary summary;
  };
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> unsupported_;
};

}  // namespace dcomp::lifecycle
