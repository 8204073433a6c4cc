// The recipe reference generated from the builtin registry says what the parsers do:
// every argument it lists as accepted refuses a wrong value by name, every refused
// one is refused with the reason it gives, every ignored one accepted, and a recipe naming an llm-compressor
// modifier dcomp lacks is refused with that modifier's reason.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include "kernels/quant/quant_args.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/modifier_reference.hpp"
#include "lifecycle/modifier_registry.hpp"
#include "lifecycle/recipe.hpp"

namespace dcomp::lifecycle {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

/// The example arguments of `modifier` with `key` set to `value` (a YAML flow value).
YAML::Node example_with(const ModifierDescription& modifier, const std::string& key, const std::string& value) {
  YAML::Node node = YAML::Load(modifier.example_args);
  node[key] = YAML::Load(value);
  return node;
}

/// The RecipeError creating the modifier from `node` raises, or "" when it is accepted.
std::string creation_error(const ModifierDescription& modifier, const YAML::Node& node) {
  ModifierArgs args(node, "probe.yaml", modifier.class_name);
  try {
    ModifierRegistry::builtin().create(modifier.class_name, args);
  } catch (const RecipeError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << modifier.class_name << ": not a RecipeError: " << e.what() << " for " << YAML::Dump(node);
  }
  return "";
}

// Every accepted argument is read by its parser (the list is what the parser asked for),
// so what is checked here is how it reads it: a value of a type no argument takes is
// either accepted (checked later, at initialize) or refused with a RecipeError naming that
// argument, never a crash or an error about something else; an optional one takes null.
TEST(ModifierReference, EveryAcceptedArgumentRefusesAWrongValueByName) {
  const auto modifiers = ModifierRegistry::builtin().describe();
  ASSERT_EQ(modifiers.size(), ModifierRegistry::builtin().names().size());
  for (const auto& modifier : modifiers) {
    EXPECT_FALSE(modifier.accepted.empty()) << modifier.class_name;
    const YAML::Node example = YAML::Load(modifier.example_args);
    for (const auto& key : modifier.accepted) {
      const std::string wrong = creation_error(modifier, example_with(modifier, key, "{probe: [1, 2]}"));
      if (!wrong.empty()) EXPECT_THAT(wrong, HasSubstr(key)) << modifier.class_name;
      // The example's own arguments are the required ones; every other one may be null.
      if (example[key]) continue;
      EXPECT_EQ(creation_error(modifier, example_with(modifier, key, "null")), "") << modifier.class_name << "." << key;
    }
    EXPECT_THAT(creation_error(modifier, example_with(modifier, "no_such_argument", "1")),
                HasSubstr("has no argument 'no_such_argument'"));
  }
}

TEST(ModifierReference, EveryRefusedArgumentIsRefusedWithItsReason) {
  size_t refused = 0;
  for (const auto& modifier : ModifierRegistry::builtin().describe()) {
    for (const auto& [key, reason] : modifier.refused) {
      const std::string error = creation_error(modifier, example_with(modifier, key, "1"));
      EXPECT_THAT(error, HasSubstr("argument '" + key + "' " + reason)) << modifier.class_name;
      EXPECT_EQ(creation_error(modifier, example_with(modifier, key, "null")), "") << modifier.class_name << "." << key;
      ++refused;
    }
  }
  EXPECT_GE(refused, 3u);  // OWL's three, calibration_function
}

TEST(ModifierReference, IgnoredArgumentsAreAccepted) {
  size_t ignored = 0;
  for (const auto& modifier : ModifierRegistry::builtin().describe()) {
    for (const auto& [key, why] : modifier.ignored) {
      EXPECT_FALSE(why.empty());
      EXPECT_EQ(creation_error(modifier, example_with(modifier, key, "true")), "") << modifier.class_name << "." << key;
      ++ignored;
    }
  }
  EXPECT_GE(ignored, 2u);  // sequential_update of GPTQModifier and SparseGPTModifier
}

TEST(ModifierReference, UnimplementedModifiersAreRefusedWithTheirReason) {
  const auto& registry = ModifierRegistry::builtin();
  ASSERT_TRUE(registry.unsupported().count("AutoRoundModifier"));
  for (const auto& [name, reason] : registry.unsupported()) {
    try {
      Recipe::from_text("quant_stage:\n  quant_modifiers:\n    " + name + ":\n      targets: [Linear]\n", "r.yaml",
                        registry);
      ADD_FAILURE() << name << " was accepted";
    } catch (const RecipeError& e) {
      EXPECT_THAT(e.what(), HasSubstr("r.yaml:3:5: '" + name + "' is not implemented by dcomp (" + reason + ")"));
      EXPECT_THAT(e.what(), HasSubstr("GPTQModifier"));
    }
  }
}

TEST(ModifierReference, MarkdownListsEveryModifierArgumentAndPreset) {
  const std::string markdown = modifier_reference_markdown(ModifierRegistry::builtin());
  for (const auto& modifier : ModifierRegistry::builtin().describe()) {
    EXPECT_THAT(markdown, HasSubstr("| `" + modifier.class_name + "` | " + modifier.what + " |"));
    for (const auto& key : modifier.accepted) EXPECT_THAT(markdown, HasSubstr("`" + key + "`"));
  }
  for (const auto& preset : quant::preset_names()) EXPECT_THAT(markdown, HasSubstr("| `" + preset + "` |"));
  EXPECT_THAT(markdown, HasSubstr("| `W4A16` | int4 group 128 symmetric | unquantized |"));
}

}  // namespace
}  // namespace dcomp::lifecycle
