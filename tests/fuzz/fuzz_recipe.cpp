// Fuzzes the recipe parser (lifecycle/recipe.cpp, yaml_json.cpp, modifier_args.cpp):
// the input is recipe text (YAML or JSON), parsed with the built-in modifier registry
// so that every modifier's argument validation runs too. Text that starts with a
// front-matter fence is also read as a Markdown recipe file from tmpfs. An accepted
// recipe must survive a round trip through to_yaml().
// reference: https://llvm.org/docs/LibFuzzer.html

#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "lifecycle/errors.hpp"
#include "lifecycle/recipe.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using dcomp::lifecycle::ModifierRegistry;
using dcomp::lifecycle::Recipe;
using dcomp::lifecycle::RecipeError;

std::vector<std::string> class_names(const Recipe& recipe) {
  std::vector<std::string> names;
  for (const auto& modifier : recipe.modifiers()) names.push_back(modifier->class_name());
  return names;
}

// What the recipe writes back must be read again as the same modifiers.
void check_round_trip(const Recipe& recipe) {
  std::string yaml;
  try {
    yaml = recipe.to_yaml();
    const Recipe again = Recipe::from_text(yaml, "round-trip.yaml", ModifierRegistry::builtin());
    dcomp::fuzz::check(class_names(again) == class_names(recipe), "the round trip keeps the modifiers");
    dcomp::fuzz::check(again.to_yaml() == yaml, "a recipe written back reads as the same recipe");
  } catch (const std::exception& error) {
    dcomp::fuzz::fail(std::string("an accepted recipe does not survive to_yaml: ") + error.what() + "\n" + yaml);
  }
}

bool starts_with_fence(const std::string& text) { return text.rfind("---\n", 0) == 0 || text.rfind("+++\n", 0) == 0; }

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // ignored top-level keys are only warnings
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::optional<Recipe> recipe;
  dcomp::fuzz::parse_or_reject<RecipeError>(
      [&] { recipe = Recipe::from_text(text, "fuzz.yaml", ModifierRegistry::builtin()); });
  if (recipe) check_round_trip(*recipe);

  if (starts_with_fence(text)) {
    static const dcomp::fuzz::ScratchDir scratch("recipe");
    const auto path = scratch.write("recipe.md", data, size);
    dcomp::fuzz::parse_or_reject<RecipeError>([&] { Recipe::from_file(path, ModifierRegistry::builtin()); });
  }
  return 0;
}
