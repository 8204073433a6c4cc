// `dcomp modifiers`: the recipe reference (modifiers, their arguments, presets) as
// Markdown, generated from the modifier registry; the README's copy is checked against it.
#include <CLI/CLI.hpp>

#include <iostream>

#include "launch/commands.hpp"
#include "lifecycle/modifier_reference.hpp"

namespace dcomp::launch {

void add_modifiers_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "modifiers", "Print the recipe reference: the modifiers dcomp implements with the arguments each accepts and "
                   "refuses, the llm-compressor modifiers it refuses, and the preset schemes (Markdown)");
  command->callback([] {
    std::cout << lifecycle::modifier_reference_markdown(lifecycle::ModifierRegistry::builtin());
  });
}

}  // namespace dcomp::launch
