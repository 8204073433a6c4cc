// Format inference (compressed-tensors 0.18+ priority: int-quantized before
// pack-quantized) and config-group target matching priorities.
#include <gtest/gtest.h>

#include "kernels/ct/compression_format.hpp"
#include "kernels/ct/quantization_config.hpp"
#include "kernels/ct/target_matching.hpp"

namespace dcomp::ct {
namespace {

std::string format_of_preset(const std::string& preset) {
  return module_format(quant::preset_scheme(preset, {"Linear"}));
}

TEST(CompressionFormat, PresetsGetTheFormatsCompressedTensorsInfers) {
  EXPECT_EQ(format_of_preset("W4A16"), "pack-quantized");
  EXPECT_EQ(format_of_preset("W4A16_ASYM"), "pack-quantized");
  EXPECT_EQ(format_of_preset("W8A16"), "pack-quantized");
  EXPECT_EQ(format_of_preset("W8A8"), "int-quantized");
  EXPECT_EQ(format_of_preset("W4A8"), "int-quantized");
  EXPECT_EQ(format_of_preset("W4AFP8"), "int-quantized");
  EXPECT_EQ(format_of_preset("FP8"), "float-quantized");
  EXPECT_EQ(format_of_preset("FP8_DYNAMIC"), "float-quantized");
  EXPECT_EQ(format_of_preset("FP8_BLOCK"), "float-quantized");
  EXPECT_EQ(format_of_preset("UNQUANTIZED"), "dense");

  auto fp8_weight_only = quant::preset_scheme("FP8_DYNAMIC", {"Linear"});
  fp8_weight_only.input_activations.reset();
  EXPECT_EQ(module_format(fp8_weight_only), "naive-quantized");
  auto w3a16 = quant::preset_scheme("W4A16", {"Linear"});
  w3a16.weights->num_bits = 3;
  EXPECT_EQ(module_format(w3a16), "pack-quantized");
  fp8_weight_only.format = "float-quantized";  // an explicit format wins
  EXPECT_EQ(module_format(fp8_weight_only), "float-quantized");
}

TEST(CompressionFormat, ModelFormatSummarizesGroups) {
  EXPECT_EQ(model_format({}), "dense");
  EXPECT_EQ(model_format({"dense"}), "dense");
  EXPECT_EQ(model_format({"pack-quantized", "dense"}), "pack-quantized");
  EXPECT_EQ(model_format({"pack-quantized", "int-quantized"}), "mixed-precision");

  const auto config = build_quantization_config(
      {{"group_0", quant::preset_scheme("W4A16", {"re:.*mlp.*"})}, {"group_1", quant::preset_scheme("W8A8", {"Linear"})}},
      {"lm_head"});
  EXPECT_EQ(config.at("format"), "mixed-precision");
  EXPECT_EQ(config.at("config_groups").at("group_0").at("format"), "pack-quantized");
  EXPECT_EQ(config.at("config_groups").at("group_1").at("format"), "int-quantized");

  QuantizationConfigOptions forced;
  forced.forced_format = "naive-quantized";
  const auto naive = build_quantization_config({{"group_0", quant::preset_scheme("W8A16", {"Linear"})}}, {}, forced);
  EXPECT_EQ(naive.at("format"), "naive-quantized");
  EXPECT_EQ(naive.at("config_groups").at("group_0").at("format"), "naive-quantized");
}

TEST(CompressionFormat, BuilderRejectsBadGroups) {
  auto no_targets = quant::preset_scheme("W4A16", {});
  EXPECT_THROW(build_quantization_config({{"group_0", no_targets}}, {}), quant::QuantConfigError);
  const auto scheme = quant::preset_scheme("W4A16", {"Linear"});
  EXPECT_THROW(build_quantization_config({{"g", scheme}, {"g", scheme}}, {}), quant::QuantConfigError);
  auto invalid = scheme;
  invalid.weights->group_size.reset();  // strategy group without a group size
  EXPECT_THROW(build_quantization_config({{"g", invalid}}, {}), quant::QuantConfigError);
}

TEST(TargetMatching, FollowsCompressedTensorsPriority) {
  const std::vector<std::string> linear{"Linear"};
  EXPECT_EQ(match_target("Linear", "model.layers.0.mlp.up_proj", linear), TargetMatch::ClassName);
  EXPECT_EQ(match_target("model.layers.0.mlp.up_proj", "model.layers.0.mlp.up_proj", linear), TargetMatch::ExactName);
  EXPECT_EQ(match_target("re:.*up_proj", "model.layers.0.mlp.up_proj", linear), TargetMatch::Pattern);
  // Python re.match anchors at the start only.
  EXPECT_EQ(match_target("re:model.layers.0", "model.layers.0.mlp.up_proj", linear), TargetMatch::Pattern);
  EXPECT_EQ(match_target("re:mlp", "model.layers.0.mlp.up_proj", linear), TargetMatch::None);
  EXPECT_THROW(match_target("re:([", "x", linear), std::invalid_argument);

  const std::vector<std::vector<std::string>> groups{
      {"Linear"}, {"re:.*mlp.*"}, {"model.layers.1.mlp.down_proj"}, {"re:.*down_proj"}};
  EXPECT_EQ(best_matching_group(groups, "model.layers.0.self_attn.q_proj", linear), 0);
  EXPECT_EQ(best_matching_group(groups, "model.layers.0.mlp.up_proj", linear), 1);
  // Patterns are tried in alphabetical order: "re:.*down_proj" < "re:.*mlp.*".
  EXPECT_EQ(best_matching_group(groups, "model.layers.0.mlp.down_proj", linear), 3);
  EXPECT_EQ(best_matching_group(groups, "model.layers.1.mlp.down_proj", linear), 2);
  EXPECT_EQ(best_matching_group(groups, "lm_head", {"Embedding"}), -1);
}

TEST(TargetMatching, ConfigGroupForRespectsIgnore) {
  const auto config = QuantizationConfig::from_json(
      build_quantization_config({{"group_0", quant::preset_scheme("W4A16", {"Linear"})}},
                                {"lm_head", "re:.*layers\\.1\\..*"}),
      "config");
  ASSERT_NE(config.group_for("model.layers.0.mlp.up_proj"), nullptr);
  EXPECT_EQ(config.group_for("model.layers.0.mlp.up_proj")->first, "group_0");
  EXPECT_EQ(config.group_for("model.layers.1.mlp.up_proj"), nullptr);
  EXPECT_EQ(config.group_for("lm_head"), nullptr);
  EXPECT_EQ(config.format_for("model.layers.1.mlp.up_proj"), "dense");
  EXPECT_EQ(config.format_for("model.layers.0.mlp.up_proj"), "pack-quantized");
}

}  // namespace
}  // namespace dcomp::ct

namespace dcomp::ct {
namespace {

// vLLM's loader quantizes its ParallelLMHead only for a group naming "lm_head" (its class is not
// "Linear"); a quantized head selected by class alone made vLLM refuse the checkpoint.
TEST(QuantizedHeadTargets, TheGroupSelectingTheHeadByClassNamesIt) {
  quant::QuantizationScheme linear;
  linear.targets = {"Linear"};
  quant::QuantizationScheme attention;
  attention.targets = {"re:.*self_attn.*"};
  std::vector<std::pair<std::string, quant::QuantizationScheme>> groups{{"group_0", attention}, {"group_1", linear}};
  name_quantized_head_in_targets(groups);
  EXPECT_EQ(groups[0].second.targets, (std::vector<std::string>{"re:.*self_attn.*"}));
  EXPECT_EQ(groups[1].second.targets, (std::vector<std::string>{"Linear", "lm_head"}));
}

TEST(QuantizedHeadTargets, AHeadNamedAlreadyIsLeftAsItIs) {
  for (const std::string& named : {std::string("lm_head"), std::string("re:lm_hea.")}) {
    quant::QuantizationScheme linear;
    linear.targets = {"Linear"};
    quant::QuantizationScheme head;
    head.targets = {named};
    std::vector<std::pair<std::string, quant::QuantizationScheme>> groups{{"group_0", linear}, {"group_1", head}};
    name_quantized_head_in_targets(groups);
    EXPECT_EQ(groups[0].second.targets, (std::vector<std::string>{"Linear"})) << named;
    EXPECT_EQ(groups[1].second.targets, (std::vector<std::string>{named})) << named;
  }
}

}  // namespace
}  // namespace dcomp::ct
