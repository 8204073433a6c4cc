// Patterns and arguments from recipes dcomp does not control: matching stays linear in
// the name (RE2), patterns RE2 cannot run or that are too long are refused with the
// recipe's file, line and field, and AWQ's grid is bounded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "kernels/ct/name_pattern.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/modifier_registry.hpp"
#include "lifecycle/recipe.hpp"
#include "lifecycle/target_match.hpp"

namespace dcomp::lifecycle {
namespace {

using ::testing::HasSubstr;

ModuleInfo pattern_test_linear(const std::string& name) { return ModuleInfo{name, {"Linear"}, 4, 4}; }

std::string pattern_recipe_error(const std::string& text) {
  try {
    Recipe::from_text(text, "recipe.yaml", ModifierRegistry::builtin());
  } catch (const RecipeError& error) {
    return error.what();
  }
  return "";
}

std::string pattern_gptq_ignoring(const std::string& pattern) {
  return "quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      scheme: W4A16\n      targets: [Linear]\n"
         "      ignore: ['lm_head', '" + pattern + "']\n";
}

TEST(UntrustedPattern, BacktrackingPatternAgainstALongNameReturnsAtOnce) {
  // A backtracking engine tries 2^40 ways to split the a's before failing at '!'.
  const std::string name = std::string(40, 'a') + "!";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(target_matches(pattern_test_linear(name), "re:(a+)+$"));
  EXPECT_TRUE(target_matches(pattern_test_linear(std::string(40, 'a')), "re:(a+)+$"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(UntrustedPattern, MatchingIsAnchoredAtTheStartOnlyAsPythonReMatch) {
  const auto q = pattern_test_linear("model.layers.10.self_attn.q_proj");
  EXPECT_TRUE(target_matches(q, "re:model\\.layers\\.1"));   // a prefix is enough
  EXPECT_FALSE(target_matches(q, "re:layers"));              // but it must start at 0
  EXPECT_TRUE(target_matches(q, "re:.*q_proj$"));
  EXPECT_FALSE(target_matches(q, "re:.*k_proj$"));
  EXPECT_TRUE(target_matches(q, "re:model.layers.(1|2)\\d.self_attn"));
  EXPECT_TRUE(target_matches(q, "re:(?:model)\\.[a-z]+\\.\\d+"));
}

TEST(UntrustedPattern, LookaroundAndBackreferencesAreRefusedNamingThePattern) {
  for (const std::string pattern : {"re:(?=model).*", "re:(?<!x)lm_head", "re:(a)\\1"}) {
    try {
      target_matches(pattern_test_linear("model.layers.0.mlp.up_proj"), pattern);
      ADD_FAILURE() << pattern << " was accepted";
    } catch (const RecipeError& error) {
      EXPECT_THAT(error.what(), HasSubstr(pattern));
      EXPECT_THAT(error.what(), HasSubstr("RE2"));
    }
  }
}

TEST(UntrustedPattern, APatternOverTheLengthLimitIsRefused) {
  const std::string long_pattern = "re:" + std::string(200 * 1024, 'a');
  try {
    target_matches(pattern_test_linear("a"), long_pattern);
    ADD_FAILURE() << "a 200 KB pattern was accepted";
  } catch (const RecipeError& error) {
    EXPECT_THAT(error.what(), HasSubstr("204800 bytes long"));
    EXPECT_THAT(error.what(), HasSubstr(std::to_string(ct::kMaxNamePatternBytes)));
  }
}

TEST(UntrustedPattern, DeeplyNestedPatternsDoNotCrash) {
  // 2,000 nested groups fit the length limit: RE2 parses them without recursion (or refuses them).
  const std::string nested = "re:" + std::string(1000, '(') + "a" + std::string(1000, ')');
  try {
    EXPECT_TRUE(target_matches(pattern_test_linear("ab"), nested));
  } catch (const RecipeError& error) {
    EXPECT_THAT(error.what(), HasSubstr("RE2"));
  }
  const std::string deeper = "re:" + std::string(100000, '(') + "a" + std::string(100000, ')');
  EXPECT_THROW(target_matches(pattern_test_linear("a"), deeper), RecipeError);
}

TEST(UntrustedPattern, RecipeWithAnUnsupportedPatternNamesFileLineAndField) {
  const std::string error = pattern_recipe_error(pattern_gptq_ignoring("re:(?=lm).*"));
  EXPECT_THAT(error, HasSubstr("recipe.yaml:6:"));
  EXPECT_THAT(error, HasSubstr("'ignore'"));
  EXPECT_THAT(error, HasSubstr("re:(?=lm).*"));
}

TEST(UntrustedPattern, RecipeWithA200KbPatternIsRefusedAtParse) {
  const std::string error = pattern_recipe_error(pattern_gptq_ignoring("re:" + std::string(200 * 1024, 'x')));
  EXPECT_THAT(error, HasSubstr("recipe.yaml:6:"));
  EXPECT_THAT(error, HasSubstr("more than dcomp's limit of 4096"));
}

TEST(UntrustedPattern, RecipeWithSupportedPatternsParses) {
  EXPECT_EQ(pattern_recipe_error(pattern_gptq_ignoring("re:.*mlp\\.down_proj$")), "");
}

TEST(UntrustedPattern, AwqGridIsBoundedAtRecipeParse) {
  const auto awq = [](const std::string& n_grid) {
    return "quant_stage:\n  quant_modifiers:\n    AWQModifier:\n      n_grid: " + n_grid +
           "\n    QuantizationModifier:\n      scheme: W4A16\n      targets: [Linear]\n      ignore: [lm_head]\n";
  };
  EXPECT_EQ(pattern_recipe_error(awq("20")), "");
  EXPECT_EQ(pattern_recipe_error(awq("1000")), "");
  const std::string error = pattern_recipe_error(awq("1000000000"));
  EXPECT_THAT(error, HasSubstr("recipe.yaml:4:"));
  EXPECT_THAT(error, HasSubstr("n_grid"));
  EXPECT_THAT(error, HasSubstr("at most 1000"));
}

}  // namespace
}  // namespace dcomp::lifecycle
