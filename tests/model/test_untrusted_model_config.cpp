// config.json comes from a folder dcomp does not control: it is read within a stated
// size and nesting depth, and the counts that size lists of layers and experts are
// bounded before anything is allocated from them, each refusal naming the file and field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "kernels/model/model_config.hpp"
#include "tests/model/config_json_fixtures.hpp"
#include "tiny_checkpoint.hpp"

namespace dcomp::model {
namespace {

using ::testing::HasSubstr;

nlohmann::json bounded_qwen3_moe() { return testing::qwen3_moe_config(); }

std::string bounded_config_error(const nlohmann::json& json) {
  return testing::config_error(json, "/models/m/config.json");
}

TEST(UntrustedModelConfig, A100000DeepConfigIsRefusedNamingFileAndLimit) {
  testing::TemporaryDirectory dir("deep_config");
  std::ofstream(dir.path() / "config.json") << "{\"architectures\": " << std::string(100000, '[')
                                             << std::string(100000, ']') << "}";
  try {
    ModelConfig::from_dir(dir.path());
    ADD_FAILURE() << "a 100,000-deep config.json was accepted";
  } catch (const ModelConfigError& error) {
    EXPECT_THAT(error.what(), HasSubstr((dir.path() / "config.json").string()));
    EXPECT_THAT(error.what(), HasSubstr("more than 64 levels deep"));
  }
}

TEST(UntrustedModelConfig, HugeLayerCountIsRefusedBeforeAllocation) {
  nlohmann::json json = bounded_qwen3_moe();
  json["num_hidden_layers"] = 1000000000;
  const std::string error = bounded_config_error(json);
  EXPECT_THAT(error, HasSubstr("/models/m/config.json"));
  EXPECT_THAT(error, HasSubstr("\"num_hidden_layers\" is 1000000000, more than dcomp's limit of 1024"));
}

TEST(UntrustedModelConfig, HugeExpertCountsAreRefused) {
  nlohmann::json json = bounded_qwen3_moe();
  json["num_experts"] = 1000000000;
  EXPECT_THAT(bounded_config_error(json), HasSubstr("\"num_experts\" is 1000000000, more than dcomp's limit of 4096"));
  json["num_experts"] = 4096;
  json["num_hidden_layers"] = 1024;
  EXPECT_THAT(bounded_config_error(json), HasSubstr("4096 experts in each of 1024 layers"));
  json["num_experts"] = 512;
  json["num_hidden_layers"] = 94;
  EXPECT_EQ(bounded_config_error(json), "");  // the largest real MoE models fit
}

// A null rope_theta (how a non-finite number is often serialised) is not an absent one, whose
// default would silently give another model.
TEST(UntrustedModelConfig, NullRopeThetaIsRefusedNotDefaulted) {
  nlohmann::json json = bounded_qwen3_moe();
  json["rope_theta"] = nullptr;
  EXPECT_THAT(bounded_config_error(json), HasSubstr("\"rope_theta\" is null"));
  json["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 500000.0}};
  EXPECT_EQ(bounded_config_error(json), "");  // the later transformers layout still reads
  json.erase("rope_theta");
  json.erase("rope_parameters");
  EXPECT_EQ(bounded_config_error(json), "");  // absent: transformers' default
}

}  // namespace
}  // namespace dcomp::model
