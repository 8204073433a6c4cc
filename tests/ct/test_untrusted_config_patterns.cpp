// The patterns of a checkpoint's quantization_config (ignore, config group targets,
// sparsity targets) come from a file dcomp does not control: a backtracking pattern
// must not hang the match, and a pattern RE2 cannot run or an overlong one is refused
// when the config is read, naming the file, the field and the entry.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "kernels/ct/quantization_config.hpp"
#include "kernels/ct/target_matching.hpp"

namespace dcomp::ct {
namespace {

using ::testing::HasSubstr;

const std::string kWhere = "/models/x/config.json: quantization_config";

std::string untrusted_config_error(const nlohmann::json& json) {
  try {
    QuantizationConfig::from_json(json, kWhere);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

TEST(UntrustedConfigPatterns, BacktrackingIgnorePatternMatchesInLinearTime) {
  const auto config = QuantizationConfig::from_json(
      {{"config_groups", {{"W4A16", {"Linear"}}}}, {"ignore", {"re:(a+)+$"}}, {"format", "pack-quantized"}}, kWhere);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_NE(config.group_for(std::string(40, 'a') + "!"), nullptr);  // not ignored: '!' ends the name
  EXPECT_EQ(config.group_for(std::string(40, 'a')), nullptr);        // ignored
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(UntrustedConfigPatterns, LookbehindInIgnoreIsRefusedNamingFileFieldAndEntry) {
  const std::string error =
      untrusted_config_error({{"config_groups", {{"W4A16", {"Linear"}}}}, {"ignore", {"lm_head", "re:(?<=x)y"}}});
  EXPECT_THAT(error, HasSubstr(kWhere + ".ignore[1]"));
  EXPECT_THAT(error, HasSubstr("re:(?<=x)y"));
  EXPECT_THAT(error, HasSubstr("RE2"));
}

TEST(UntrustedConfigPatterns, OverlongGroupTargetIsRefused) {
  const std::string error =
      untrusted_config_error({{"config_groups", {{"W4A16", {"Linear", "re:" + std::string(200 * 1024, 'b')}}}}});
  EXPECT_THAT(error, HasSubstr(kWhere + ".config_groups.W4A16.targets[1]"));
  EXPECT_THAT(error, HasSubstr("more than dcomp's limit of 4096"));
}

TEST(UntrustedConfigPatterns, SparsityPatternsAreCheckedToo) {
  const std::string error = untrusted_config_error(
      {{"sparsity_config", {{"format", "sparse-24-bitmask"}, {"targets", {"re:(?!lm_head).*"}}}}});
  EXPECT_THAT(error, HasSubstr(kWhere + ".sparsity_config.targets[0]"));
}

TEST(UntrustedConfigPatterns, PatternParityWithPythonReMatch) {
  // re.match("model\.layers\.\d+\.mlp", name): anchored at the start, free at the end.
  const std::vector<std::string> linear{"Linear"};
  EXPECT_EQ(match_target("re:model\\.layers\\.\\d+\\.mlp", "model.layers.12.mlp.up_proj", linear), TargetMatch::Pattern);
  EXPECT_EQ(match_target("re:layers\\.\\d+", "model.layers.12.mlp.up_proj", linear), TargetMatch::None);
  EXPECT_EQ(match_target("re:.*(gate|up)_proj$", "model.layers.1.mlp.up_proj", linear), TargetMatch::Pattern);
  EXPECT_EQ(match_target("re:.*(gate|up)_proj$", "model.layers.1.mlp.down_proj", linear), TargetMatch::None);
}

}  // namespace
}  // namespace dcomp::ct
