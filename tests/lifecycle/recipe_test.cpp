// Recipe parsing: stage flattening, groups, errors with file:line:column.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lifecycle/errors.hpp"
#include "lifecycle/recipe.hpp"
#include "recording_modifier.hpp"

namespace dcomp::lifecycle {
namespace {

using ::testing::HasSubstr;
using testing::CallLog;
using testing::RecordingModifier;

struct RecipeTest : ::testing::Test {
  std::shared_ptr<CallLog> log = std::make_shared<CallLog>();
  ModifierRegistry registry = testing::recording_registry(log);

  std::string recipe_error(const std::string& text) {
    try {
      Recipe::from_text(text, "recipe.yaml", registry);
    } catch (const RecipeError& e) {
      return e.what();
    }
    return "";
  }
};

std::string id_of(const ModifierPtr& m) { return static_cast<RecordingModifier&>(*m).id_; }

TEST_F(RecipeTest, StagesAreFlattenedInYamlOrder) {
  auto recipe = Recipe::from_text(R"(
sparsity_stage:
  sparsity_modifiers:
    RecordingModifier: {id: s1}
quant_stage:
  quant_modifiers:
    RecordingModifier: {id: q1}
    OtherModifier: {id: q2}
  extra_modifiers:
    RecordingModifier: {id: q3, group: custom}
)",
                                  "recipe.yaml", registry);
  ASSERT_EQ(recipe.modifiers().size(), 4u);
  EXPECT_EQ(id_of(recipe.modifiers()[0]), "s1");
  EXPECT_EQ(id_of(recipe.modifiers()[1]), "q1");
  EXPECT_EQ(id_of(recipe.modifiers()[2]), "q2");
  EXPECT_EQ(id_of(recipe.modifiers()[3]), "q3");
  EXPECT_EQ(recipe.modifiers()[0]->group, "sparsity");
  EXPECT_EQ(recipe.modifiers()[1]->group, "quant");
  EXPECT_EQ(recipe.modifiers()[3]->group, "custom");
  EXPECT_EQ(recipe.stage(), "quant");  // the last stage read
}

TEST_F(RecipeTest, TargetStageKeepsMatchingTopLevelKeys) {
  const std::string text = R"(
sparsity_stage:
  m_modifiers:
    RecordingModifier: {id: s}
quant_stage:
  m_modifiers:
    RecordingModifier: {id: q}
)";
  auto recipe = Recipe::from_text(text, "r.yaml", registry, std::string("quant"));
  ASSERT_EQ(recipe.modifiers().size(), 1u);
  EXPECT_EQ(id_of(recipe.modifiers()[0]), "q");
}

TEST_F(RecipeTest, JsonTextIsAccepted) {
  auto recipe = Recipe::from_text(R"({"a_stage": {"b_modifiers": {"RecordingModifier": {"id": "j", "start": 1}}}})",
                                  "r.json", registry);
  ASSERT_EQ(recipe.modifiers().size(), 1u);
  EXPECT_EQ(recipe.modifiers()[0]->start, 1.0);
}

TEST_F(RecipeTest, UnknownModifierNamesLineAndKnownModifiers) {
  std::string message = recipe_error("quant_stage:\n  quant_modifiers:\n    GPTQModifer:\n      block_size: 64\n");
  EXPECT_THAT(message, HasSubstr("recipe.yaml:3:5: unknown modifier 'GPTQModifer'"));
  EXPECT_THAT(message, HasSubstr("known modifiers: OtherModifier, RecordingModifier"));
}

TEST_F(RecipeTest, UnknownArgumentNamesLineAndKnownArguments) {
  std::string message =
      recipe_error("quant_stage:\n  quant_modifiers:\n    RecordingModifier:\n      id: a\n      colour: red\n");
  EXPECT_THAT(message, HasSubstr("recipe.yaml:5:7: RecordingModifier has no argument 'colour'"));
  EXPECT_THAT(message, HasSubstr("known arguments:"));
  EXPECT_THAT(message, HasSubstr("throw_on"));
  EXPECT_THAT(message, HasSubstr("start"));
}

TEST_F(RecipeTest, WrongArgumentTypeNamesTheLine) {
  std::string message = recipe_error("s_stage:\n  m_modifiers:\n    RecordingModifier:\n      start: soon\n");
  EXPECT_THAT(message, HasSubstr("recipe.yaml:4:14: RecordingModifier argument 'start' has a value of the wrong type"));
}

TEST_F(RecipeTest, InvalidYamlNamesTheLine) {
  std::string message = recipe_error("s_stage:\n  m_modifiers:\n    RecordingModifier: {id: [unclosed\n");
  EXPECT_THAT(message, HasSubstr("recipe.yaml:"));
  EXPECT_THAT(message, HasSubstr("invalid YAML"));
}

TEST_F(RecipeTest, StructureErrors) {
  EXPECT_THAT(recipe_error("- a\n- b\n"), HasSubstr("must be a mapping"));
  EXPECT_THAT(recipe_error("s_stage: 3\n"), HasSubstr("stage 's_stage' must be a mapping"));
  EXPECT_THAT(recipe_error("s_stage:\n  m_modifiers: [1]\n"), HasSubstr("'m_modifiers' must be a mapping"));
  EXPECT_THAT(recipe_error("s_stage:\n  m_modifiers:\n    RecordingModifier: 5\n"),
              HasSubstr("arguments of RecordingModifier must be a mapping"));
}

TEST_F(RecipeTest, EmptyTextIsAnEmptyRecipe) {
  EXPECT_TRUE(Recipe::from_text("", "r.yaml", registry).modifiers().empty());
}

TEST_F(RecipeTest, FilesAndMarkdownFrontMatter) {
  auto dir = std::filesystem::temp_directory_path() / ("dcomp_recipe_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "r.yaml") << "a_stage:\n  b_modifiers:\n    RecordingModifier: {id: f}\n";
    std::ofstream(dir / "r.md") << "---\na_stage:\n  b_modifiers:\n    OtherModifier: {id: md}\n---\n# notes\n";
  }
  auto from_yaml = Recipe::create_instance((dir / "r.yaml").string(), registry);
  ASSERT_EQ(from_yaml.modifiers().size(), 1u);
  EXPECT_EQ(id_of(from_yaml.modifiers()[0]), "f");
  auto from_md = Recipe::from_file(dir / "r.md", registry);
  ASSERT_EQ(from_md.modifiers().size(), 1u);
  EXPECT_EQ(from_md.modifiers()[0]->class_name(), "OtherModifier");
  try {
    Recipe::from_file(dir / "missing.yaml", registry);
    FAIL();
  } catch (const RecipeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing.yaml: cannot open the recipe file"));
  }
  std::filesystem::remove_all(dir);
}

TEST_F(RecipeTest, LoadReadsOnceWhatCreateInstanceParsesAndSourceTextRecords) {
  auto dir = std::filesystem::temp_directory_path() / ("dcomp_recipe_load_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string front_matter = "a_stage:\n  b_modifiers:\n    OtherModifier: {id: md}\n";
  std::ofstream(dir / "r.md") << "---\n" << front_matter << "---\n# notes\n";
  const Recipe::Loaded from_file = Recipe::load((dir / "r.md").string(), registry);
  EXPECT_EQ(from_file.text, Recipe::source_text((dir / "r.md").string()));
  ASSERT_EQ(from_file.recipe.modifiers().size(), 1u);
  EXPECT_EQ(from_file.recipe.modifiers()[0]->class_name(), "OtherModifier");
  const std::string text = "s_stage:\n  m_modifiers:\n    RecordingModifier: {id: t}\n";
  const Recipe::Loaded from_text = Recipe::load(text, registry);
  EXPECT_EQ(from_text.text, text);
  ASSERT_EQ(from_text.recipe.modifiers().size(), 1u);
  EXPECT_EQ(id_of(from_text.recipe.modifiers()[0]), "t");
  // Errors in a file name the file, as create_instance's do.
  std::ofstream(dir / "bad.yaml") << "s_stage:\n  m_modifiers:\n    RecordingModifier: 5\n";
  try {
    Recipe::load((dir / "bad.yaml").string(), registry);
    ADD_FAILURE() << "a malformed recipe file was accepted";
  } catch (const RecipeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad.yaml"));
  }
  std::filesystem::remove_all(dir);
}

TEST_F(RecipeTest, ToYamlRoundTrips) {
  auto recipe = Recipe::from_text("x_stage:\n  y_modifiers:\n    RecordingModifier: {start: 1, end: 3}\n", "r.yaml",
                                  registry);
  auto again = Recipe::from_text(recipe.to_yaml(), "again.yaml", registry);
  ASSERT_EQ(again.modifiers().size(), 1u);
  EXPECT_EQ(again.modifiers()[0]->start, 1.0);
  EXPECT_EQ(again.modifiers()[0]->end, 3.0);
  EXPECT_EQ(again.modifiers()[0]->group, "y");
  EXPECT_EQ(again.stage(), "x");
}

TEST_F(RecipeTest, FromModifiersKeepsOrder) {
  auto a = std::make_shared<RecordingModifier>("a", log);
  auto b = std::make_shared<RecordingModifier>("b", log);
  auto recipe = Recipe::from_modifiers({b, a});
  EXPECT_EQ(recipe.modifiers()[0], b);
  EXPECT_EQ(recipe.stage(), "default");
  EXPECT_THROW(Recipe::from_modifiers({nullptr}), RecipeError);
}

}  // namespace
}  // namespace dcomp::lifecycle
