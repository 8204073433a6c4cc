// ModelConfig: the fields, defaults and errors of config.json parsing.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "kernels/model/model_config.hpp"
#include "tests/support/shared_data.hpp"

namespace dcomp::model {
namespace {

using ::testing::HasSubstr;

nlohmann::json minimal_llama() {
  return nlohmann::json{{"architectures", {"LlamaForCausalLM"}},
                        {"hidden_size", 64},
                        {"intermediate_size", 128},
                        {"num_hidden_layers", 2},
                        {"num_attention_heads", 8},
                        {"vocab_size", 100},
                        {"max_position_embeddings", 256},
                        {"rms_norm_eps", 1e-5}};
}

std::string error_of(const nlohmann::json& json) {
  try {
    ModelConfig::from_json(json, "/models/x/config.json");
  } catch (const ModelConfigError& error) {
    return error.what();
  }
  return "";
}

TEST(ModelConfig, ReadsTheSharedTinyStoriesConfig) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const ModelConfig config = ModelConfig::from_dir(data / "tinystories-656k");
  EXPECT_EQ(config.architecture, Architecture::Llama);
  EXPECT_EQ(config.hidden_size, 128);
  EXPECT_EQ(config.intermediate_size, 384);
  EXPECT_EQ(config.num_hidden_layers, 2);
  EXPECT_EQ(config.num_attention_heads, 8);
  EXPECT_EQ(config.num_key_value_heads, 4);
  EXPECT_EQ(config.head_dim, 16);
  EXPECT_EQ(config.vocab_size, 2048);
  EXPECT_EQ(config.max_position_embeddings, 512);
  EXPECT_TRUE(config.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(config.rms_norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(config.rope_theta, 10000.0);
  EXPECT_EQ(config.rope_scaling.type, RopeScalingType::Default);
  EXPECT_EQ(config.bos_token_id, 1);
  EXPECT_EQ(config.eos_token_ids, std::vector<int64_t>{2});
  EXPECT_FALSE(config.qkv_bias || config.o_proj_bias || config.mlp_bias || config.qk_norm);
  EXPECT_EQ(config.raw.at("model_type"), "llama");
  EXPECT_FALSE(config.has_quantization_config());
}

TEST(ModelConfig, DefaultsFollowTransformers) {
  const ModelConfig config = ModelConfig::from_json(minimal_llama());
  EXPECT_EQ(config.num_key_value_heads, 8);  // = num_attention_heads
  EXPECT_EQ(config.head_dim, 8);             // = hidden / heads
  EXPECT_DOUBLE_EQ(config.rope_theta, 10000.0);
  EXPECT_FALSE(config.tie_word_embeddings);
  EXPECT_EQ(config.torch_dtype, "float32");
  EXPECT_FALSE(config.bos_token_id.has_value());
  EXPECT_TRUE(config.eos_token_ids.empty());
}

TEST(ModelConfig, ArchitectureVariants) {
  auto qwen2 = minimal_llama();
  qwen2["architectures"] = {"Qwen2ForCausalLM"};
  const ModelConfig q2 = ModelConfig::from_json(qwen2);
  EXPECT_TRUE(q2.qkv_bias);
  EXPECT_FALSE(q2.o_proj_bias);
  EXPECT_FALSE(q2.qk_norm);

  auto qwen3 = minimal_llama();
  qwen3["architectures"] = {"Qwen3ForCausalLM"};
  qwen3["head_dim"] = 16;  // explicit, != hidden / heads
  qwen3["num_key_value_heads"] = 2;
  const ModelConfig q3 = ModelConfig::from_json(qwen3);
  EXPECT_TRUE(q3.qk_norm);
  EXPECT_FALSE(q3.qkv_bias);
  EXPECT_EQ(q3.head_dim, 16);
  EXPECT_EQ(q3.query_heads_per_kv_head(), 4);

  auto mistral = minimal_llama();
  mistral["architectures"] = {"MistralForCausalLM"};
  mistral["sliding_window"] = 32;
  mistral["eos_token_id"] = {2, 7};
  mistral["torch_dtype"] = "bfloat16";
  const ModelConfig m = ModelConfig::from_json(mistral);
  EXPECT_EQ(m.sliding_window, 32);
  EXPECT_EQ(m.eos_token_ids, (std::vector<int64_t>{2, 7}));
  EXPECT_EQ(m.torch_dtype, "bfloat16");

  auto llama_bias = minimal_llama();
  llama_bias["attention_bias"] = true;
  llama_bias["mlp_bias"] = true;
  const ModelConfig lb = ModelConfig::from_json(llama_bias);
  EXPECT_TRUE(lb.qkv_bias && lb.o_proj_bias && lb.mlp_bias);
}

TEST(ModelConfig, Llama3RopeScaling) {
  auto json = minimal_llama();
  json["rope_theta"] = 500000.0;
  json["rope_scaling"] = {{"rope_type", "llama3"},
                          {"factor", 8.0},
                          {"low_freq_factor", 1.0},
                          {"high_freq_factor", 4.0},
                          {"original_max_position_embeddings", 8192}};
  const ModelConfig config = ModelConfig::from_json(json);
  EXPECT_EQ(config.rope_scaling.type, RopeScalingType::Llama3);
  EXPECT_DOUBLE_EQ(config.rope_scaling.factor, 8.0);
  EXPECT_EQ(config.rope_scaling.original_max_position_embeddings, 8192);

  json["rope_scaling"] = {{"type", "default"}};
  EXPECT_EQ(ModelConfig::from_json(json).rope_scaling.type, RopeScalingType::Default);
}

TEST(ModelConfig, UnsupportedArchitectureListsTheSupportedOnes) {
  auto json = minimal_llama();
  json["architectures"] = {"GPT2LMHeadModel"};
  const std::string message = error_of(json);
  EXPECT_THAT(message, HasSubstr("/models/x/config.json"));
  EXPECT_THAT(message, HasSubstr("GPT2LMHeadModel"));
  for (const char* name : {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"}) {
    EXPECT_THAT(message, HasSubstr(name));
  }
}

TEST(ModelConfig, MissingFieldNamesFileAndField) {
  for (const char* field : {"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size",
                            "max_position_embeddings", "rms_norm_eps", "architectures"}) {
    auto json = minimal_llama();
    json.erase(field);
    const std::string message = error_of(json);
    EXPECT_THAT(message, HasSubstr("/models/x/config.json")) << field;
    EXPECT_THAT(message, HasSubstr(std::string("missing required field \"") + field + "\"")) << field;
  }
}

TEST(ModelConfig, RejectsInconsistentOrUnsupportedValues) {
  auto json = minimal_llama();
  json["num_key_value_heads"] = 3;  // 8 % 3 != 0
  EXPECT_THAT(error_of(json), HasSubstr("num_key_value_heads"));

  json = minimal_llama();
  json["hidden_act"] = "gelu";
  EXPECT_THAT(error_of(json), HasSubstr("gelu"));

  json = minimal_llama();
  json["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 4.0}};
  EXPECT_THAT(error_of(json), HasSubstr("\"dynamic\" is not supported"));

  json = minimal_llama();  // yarn needs its factor
  json["rope_scaling"] = {{"rope_type", "yarn"}};
  EXPECT_THAT(error_of(json), HasSubstr("missing required field \"factor\""));

  json = minimal_llama();
  json["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  EXPECT_THAT(error_of(json), HasSubstr("low_freq_factor"));

  json = minimal_llama();
  json["hidden_size"] = "64";
  EXPECT_THAT(error_of(json), HasSubstr("\"hidden_size\" must be an integer"));

  json = minimal_llama();
  json["head_dim"] = 7;
  EXPECT_THAT(error_of(json), HasSubstr("must be even"));
}

TEST(ModelConfig, FromDirErrorsNameThePath) {
  const auto dir = std::filesystem::temp_directory_path() / ("dcomp_model_config_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  try {
    ModelConfig::from_dir(dir);
    ADD_FAILURE() << "no error for a folder without config.json";
  } catch (const ModelConfigError& error) {
    EXPECT_THAT(error.what(), HasSubstr((dir / "config.json").string()));
  }
  std::ofstream(dir / "config.json") << "{ not json";
  try {
    ModelConfig::from_dir(dir);
    ADD_FAILURE() << "no error for invalid JSON";
  } catch (const ModelConfigError& error) {
    EXPECT_THAT(error.what(), HasSubstr("not valid JSON"));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dcomp::model
