// Recipes found by fuzzing (tests/fuzz/regressions/recipe) are rejected with a
// RecipeError naming the file, the position and the problem, instead of crashing,
// hanging, reading the same modifier twice or writing back something else.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "lifecycle/errors.hpp"
#include "lifecycle/recipe.hpp"
#include "lifecycle/yaml_json.hpp"

namespace dcomp::lifecycle {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::filesystem::path regression(const std::string& name) {
  return std::filesystem::path(DCOMP_SOURCE_DIR) / "tests/fuzz/regressions/recipe" / name;
}

// The message of the RecipeError that reading the file throws ("" when it is accepted).
std::string recipe_error(const std::filesystem::path& path) {
  try {
    Recipe::from_file(path, ModifierRegistry::builtin());
  } catch (const RecipeError& error) {
    return error.what();
  }
  return "";
}

TEST(RecipeFuzzRegression, DuplicateKeyIsRejectedInsteadOfReadingTwoModifiers) {
  const auto path = regression("duplicate_key_reads_two_modifiers");
  const std::string message = recipe_error(path);
  EXPECT_THAT(message, StartsWith(path.string() + ":6:3: "));
  EXPECT_THAT(message, HasSubstr("key 'quantindex_modifiers' appears more than once in the same mapping"));
}

TEST(RecipeFuzzRegression, AliasInsideItsOwnAnchorIsACycle) {
  const auto path = regression("alias_inside_its_anchor.yaml");
  EXPECT_THAT(recipe_error(path), HasSubstr(path.string() + ":4:7: a YAML alias refers to a node that contains it"));
}

TEST(RecipeFuzzRegression, NestedAliasesMayNotExpandWithoutBound) {
  const std::string message = recipe_error(regression("nested_alias_expansion.yaml"));
  EXPECT_THAT(message, HasSubstr("the recipe expands (through YAML aliases) to more than 100000 nodes"));
}

TEST(RecipeFuzzRegression, MappingKeyMustBeAString) {
  const auto path = regression("sequence_as_mapping_key.yaml");
  EXPECT_THAT(recipe_error(path), HasSubstr(path.string() + ":1:3: a mapping key must be a string"));
}

TEST(RecipeFuzzRegression, InvalidUtf8IsRejected) {
  const auto path = regression("invalid_utf8_changes_on_write_back");
  EXPECT_THAT(recipe_error(path), HasSubstr(path.string() + ":2:3: text is not valid UTF-8"));
}

// A mapping where SmoothQuantModifier expects a layer name: the conversion error names
// the recipe, the position and the modifier.
TEST(RecipeFuzzRegression, ArgumentOfTheWrongKindNamesTheModifier) {
  const auto path = regression("mapping_where_a_layer_name_belongs");
  EXPECT_THAT(recipe_error(path),
              HasSubstr(path.string() + ":7:13: SmoothQuantModifier has an argument value of the wrong kind"));
}

// Two stages with the same modifier class in the same group: to_yaml keeps both (the
// second in group "quant_1") instead of writing one over the other.
TEST(RecipeFuzzRegression, ToYamlKeepsTheSameModifierFromTwoStages) {
  const Recipe recipe = Recipe::from_file(regression("same_modifier_in_two_stages"), ModifierRegistry::builtin());
  ASSERT_EQ(recipe.modifiers().size(), 2u);
  const Recipe again = Recipe::from_text(recipe.to_yaml(), "again.yaml", ModifierRegistry::builtin());
  ASSERT_EQ(again.modifiers().size(), 2u);
  EXPECT_EQ(again.modifiers()[0]->class_name(), "QuantizationModifier");
  EXPECT_EQ(again.modifiers()[0]->group, "quant");
  EXPECT_EQ(again.modifiers()[1]->class_name(), "QuantizationModifier");
  EXPECT_EQ(again.modifiers()[1]->group, "quant_1");
  EXPECT_EQ(again.to_yaml(), recipe.to_yaml());
}

std::vector<std::string> class_names(const Recipe& recipe) {
  std::vector<std::string> names;
  for (const auto& modifier : recipe.modifiers()) names.push_back(modifier->class_name());
  return names;
}

// Stages whose groups interleave: to_yaml writes the modifiers in the order they are
// applied instead of gathering each group's modifiers.
TEST(RecipeFuzzRegression, ToYamlKeepsTheModifierOrder) {
  const Recipe found = Recipe::from_file(regression("to_yaml_reorders_modifiers"), ModifierRegistry::builtin());
  const std::vector<std::string> expected{"GPTQModifier", "GPTQModifier", "QuantizationModifier"};
  ASSERT_EQ(class_names(found), expected);
  EXPECT_EQ(class_names(Recipe::from_text(found.to_yaml(), "again.yaml", ModifierRegistry::builtin())), expected);

  const Recipe interleaved = Recipe::from_text(
      "a_stage:\n  smooth_modifiers:\n    SmoothQuantModifier: {}\n  quant_modifiers:\n    GPTQModifier: {scheme: W4A16}\n"
      "b_stage:\n  smooth_modifiers:\n    SmoothQuantModifier: {smoothing_strength: 0.25}\n",
      "interleaved.yaml", ModifierRegistry::builtin());
  const std::string yaml = interleaved.to_yaml();
  EXPECT_THAT(yaml, HasSubstr("smooth_modifiers:"));
  EXPECT_THAT(yaml, HasSubstr("quant_modifiers:"));
  EXPECT_THAT(yaml, HasSubstr("smooth_1_modifiers:"));
  const Recipe again = Recipe::from_text(yaml, "again.yaml", ModifierRegistry::builtin());
  EXPECT_EQ(class_names(again),
            (std::vector<std::string>{"SmoothQuantModifier", "GPTQModifier", "SmoothQuantModifier"}));
  EXPECT_EQ(again.to_yaml(), yaml);
}

// A string argument ending in a carriage return is written quoted, so that it reads
// back unchanged instead of losing the CR to the line break after it.
TEST(RecipeFuzzRegression, ToYamlKeepsACarriageReturn) {
  const Recipe recipe =
      Recipe::from_file(regression("carriage_return_lost_on_write_back"), ModifierRegistry::builtin());
  const std::string yaml = recipe.to_yaml();
  EXPECT_THAT(yaml, HasSubstr("symmetric: \"tru\\r\""));
  EXPECT_EQ(Recipe::from_text(yaml, "again.yaml", ModifierRegistry::builtin()).to_yaml(), yaml);
}

// A quoted string that looks like a number ("064140") is written quoted, so that it reads
// back as a string, not as the integer 64140.
TEST(RecipeFuzzRegression, ToYamlQuotesStringsThatLookLikeOtherScalars) {
  const Recipe recipe =
      Recipe::from_file(regression("quoted_number_read_back_as_number"), ModifierRegistry::builtin());
  const std::string yaml = recipe.to_yaml();
  EXPECT_THAT(yaml, HasSubstr("\"064140\""));
  EXPECT_EQ(Recipe::from_text(yaml, "again.yaml", ModifierRegistry::builtin()).to_yaml(), yaml);

  const nlohmann::json strings = {{"integer", "064140"}, {"float", "-.5e3"}, {"true", "True"}, {"null", "~"},
                                  {"empty", ""}, {"cr", "x\r"}, {"plain", "W4A16"}};
  YAML::Emitter out;
  emit_json_as_yaml(out, strings);
  EXPECT_EQ(yaml_to_json(YAML::Load(std::string(out.c_str()) + "\n")), strings);
}

// A 45,000-digit number inside config_groups: reading it used std::regex, which
// recursed once per digit and overflowed the stack.
TEST(RecipeFuzzRegression, LongNumberIsRead) {
  const Recipe recipe =
      Recipe::from_file(regression("long_number_overflows_the_stack.yaml"), ModifierRegistry::builtin());
  ASSERT_EQ(recipe.modifiers().size(), 1u);
  EXPECT_EQ(recipe.modifiers()[0]->class_name(), "QuantizationModifier");
}

TEST(RecipeFuzzRegression, DeepNestingIsRejected) {
  std::string text = "quant_stage:\n  quant_modifiers:\n    QuantizationModifier:\n      scheme: {W4A16: ";
  text += std::string(80, '[') + "Linear" + std::string(80, ']') + "}\n";
  try {
    Recipe::from_text(text, "deep.yaml", ModifierRegistry::builtin());
    FAIL() << "a recipe nested 80 levels deep was accepted";
  } catch (const RecipeError& error) {
    EXPECT_THAT(error.what(), HasSubstr("deep.yaml:4:"));
    EXPECT_THAT(error.what(), HasSubstr("the recipe nests more than 64 levels deep"));
  }
}

}  // namespace
}  // namespace dcomp::lifecycle
