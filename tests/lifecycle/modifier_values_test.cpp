// Numbers in a recipe are checked when the modifier is built from it, before any model is
// loaded: YAML's .nan and .inf are refused for every numeric argument, and each argument's
// range as llm-compressor documents it (GPTQ / SparseGPT dampening_frac in [0, 1), sparsity
// in [0, 1), SmoothQuant smoothing_strength in [0, 1]); the message names the recipe, the
// line, the modifier and the argument.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include "lifecycle/errors.hpp"
#include "lifecycle/modifier_args.hpp"
#include "lifecycle/modifier_registry.hpp"

namespace dcomp::lifecycle {
namespace {

using ::testing::HasSubstr;

/// The RecipeError building `modifier` from the flow mapping `args` raises, or "".
std::string creation_error(const std::string& modifier, const std::string& args) {
  ModifierArgs parsed(YAML::Load(args), "recipe.yaml", modifier);
  try {
    ModifierRegistry::builtin().create(modifier, parsed);
  } catch (const RecipeError& e) {
    return e.what();
  }
  return "";
}

TEST(ModifierValues, NonFiniteNumbersAreRefusedByName) {
  const struct {
    const char* modifier;
    const char* args;
    const char* argument;
  } cases[] = {
      {"GPTQModifier", "{scheme: W4A16, dampening_frac: .nan}", "dampening_frac"},
      {"GPTQModifier", "{scheme: W4A16, dampening_frac: -.inf}", "dampening_frac"},
      {"SparseGPTModifier", "{sparsity: .nan}", "sparsity"},
      {"SparseGPTModifier", "{sparsity: 0.5, dampening_frac: .NaN}", "dampening_frac"},
      {"SmoothQuantModifier", "{smoothing_strength: .nan}", "smoothing_strength"},
      {"SmoothQuantModifier", "{smoothing_strength: .inf}", "smoothing_strength"},
      {"QuantizationModifier", "{scheme: W4A16, start: .inf}", "start"},
  };
  for (const auto& c : cases) {
    const std::string error = creation_error(c.modifier, c.args);
    EXPECT_THAT(error, HasSubstr("recipe.yaml:1:")) << c.args;
    EXPECT_THAT(error, HasSubstr(std::string(c.modifier) + " argument '" + c.argument + "' must be a finite number"))
        << c.args;
  }
}

TEST(ModifierValues, NumbersOutsideTheirRangeAreRefused) {
  EXPECT_THAT(creation_error("GPTQModifier", "{scheme: W4A16, dampening_frac: 1.0}"),
              HasSubstr("'dampening_frac' must be in [0, 1)"));
  EXPECT_THAT(creation_error("GPTQModifier", "{scheme: W4A16, dampening_frac: -0.01}"),
              HasSubstr("'dampening_frac' must be in [0, 1)"));
  EXPECT_THAT(creation_error("SparseGPTModifier", "{sparsity: 0.5, dampening_frac: 2}"),
              HasSubstr("'dampening_frac' must be in [0, 1)"));
  EXPECT_THAT(creation_error("SparseGPTModifier", "{sparsity: 0.5, block_size: 0}"), HasSubstr("'block_size'"));
  EXPECT_THAT(creation_error("SmoothQuantModifier", "{smoothing_strength: 1.5}"),
              HasSubstr("'smoothing_strength' must be in [0, 1]"));
  // The bounds themselves, and llm-compressor's defaults, are accepted.
  EXPECT_EQ(creation_error("GPTQModifier", "{scheme: W4A16, dampening_frac: 0.0}"), "");
  EXPECT_EQ(creation_error("GPTQModifier", "{scheme: W4A16, dampening_frac: 0.01}"), "");
  EXPECT_EQ(creation_error("SmoothQuantModifier", "{smoothing_strength: 1.0}"), "");
  EXPECT_EQ(creation_error("SmoothQuantModifier", "{smoothing_strength: 0}"), "");
}

}  // namespace
}  // namespace dcomp::lifecycle
