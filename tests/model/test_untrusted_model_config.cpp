// config.json comes from a folder dcomp does not control: it is read within a stated
// size and nesting depth, and the counts that size lists of layers and experts are
// bounded before anything is allocated from them, each refusal naming the file and field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "kernels/model/model_config.hpp"
#include "tiny_checkpoint.hpp"

namespace dcomp::model {
namespace {

using ::testing::HasSubstr;

nlohmann::json bounded_qwen3_moe() {
  return nlohmann::json{{"architectures", {"Qwen3MoeForCausalLM"}},
                        {"hidden_size", 64},
                        {"intermediate_size", 96},
                        {"moe_intermediate_size", 32},
                        {"num_hidden_layers", 4},
                        {"num_attention_heads", 4},
                        {"num_key_value_heads", 2},
                        {"head_dim", 16},
                        {"num_experts", 8},
                        {"num_experts_per_tok", 2},
                        {"vocab_size", 100},
                        {"max_position_embeddings", 256},
                        {"rms_norm_eps", 1e-6}};
}

std::string bounded_config_error(const nlohmann::json& json) {
  try {
    ModelConfig::from_json(json, "/models/m/config.json");
  } catch (const ModelConfigError& error) {
    return error.what();
  }
  return "";
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

}  // namespace
}  // namespace dcomp::model
