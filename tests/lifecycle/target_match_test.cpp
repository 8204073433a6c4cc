// Target and ignore matching: exact names, re: prefixes (anchored at the start
// only, like Python's re.match), and class names.
#include <gtest/gtest.h>

#include "lifecycle/errors.hpp"
#include "lifecycle/target_match.hpp"

namespace dcomp::lifecycle {
namespace {

ModuleInfo linear(const std::string& name) { return ModuleInfo{name, {"Linear"}, 4, 4}; }

TEST(TargetMatch, ExactNameRegexAndClass) {
  auto q = linear("model.layers.0.self_attn.q_proj");
  EXPECT_TRUE(target_matches(q, "model.layers.0.self_attn.q_proj"));
  EXPECT_FALSE(target_matches(q, "model.layers.0.self_attn"));
  EXPECT_TRUE(target_matches(q, "Linear"));
  EXPECT_FALSE(target_matches(q, "Embedding"));
  EXPECT_TRUE(target_matches(q, "re:.*q_proj"));
  EXPECT_TRUE(target_matches(q, "re:model\\.layers\\.0"));  // prefix match is enough (re.match)
  EXPECT_FALSE(target_matches(q, "re:self_attn"));          // not anchored at the start
  EXPECT_TRUE(target_matches(q, "re:.*self_attn"));
}

TEST(TargetMatch, SelectRespectsIgnore) {
  std::vector<ModuleInfo> modules = {linear("model.layers.0.mlp.down_proj"), linear("lm_head"),
                                     ModuleInfo{"model.embed_tokens", {"Embedding"}, 0, 0}};
  auto selected = select_modules(modules, {"Linear"}, {"lm_head"});
  ASSERT_EQ(selected.size(), 1u);
  EXPECT_EQ(selected[0].name, "model.layers.0.mlp.down_proj");
  EXPECT_TRUE(select_modules(modules, {"Linear"}, {"re:.*"}).empty());
}

TEST(TargetMatch, InvalidRegexIsARecipeError) {
  EXPECT_THROW(target_matches(linear("a"), "re:(unclosed"), RecipeError);
}

TEST(TargetMatch, Priority) {
  EXPECT_EQ(target_priority("model.layers.0.mlp.down_proj"), 0);
  EXPECT_EQ(target_priority("lm_head"), 0);
  EXPECT_EQ(target_priority("re:.*"), 1);
  EXPECT_EQ(target_priority("Linear"), 2);
}

}  // namespace
}  // namespace dcomp::lifecycle
