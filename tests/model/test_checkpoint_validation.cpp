// validate_dense_checkpoint on model folders written with a known defect each: the
// problem must be found before any layer is loaded, with the tensor and file named.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "kernels/model/checkpoint_validation.hpp"
#include "tests/model/tiny_checkpoint.hpp"

namespace dcomp::model {
namespace {

using ::testing::HasSubstr;

// The message validate_dense_checkpoint throws for the folder ("" when it passes).
std::string problem_of(const std::filesystem::path& dir, const nlohmann::json& config_json) {
  try {
    validate_dense_checkpoint(io::CheckpointReader(dir), ModelConfig::from_json(config_json));
  } catch (const ModelConfigError& error) {
    return error.what();
  }
  return "";
}

std::vector<io::NamedTensor> without(std::vector<io::NamedTensor> tensors, const std::string& name) {
  tensors.erase(std::remove_if(tensors.begin(), tensors.end(), [&](const auto& t) { return t.name == name; }),
                tensors.end());
  return tensors;
}

TEST(CheckpointValidation, CompleteCheckpointsOfEachArchitecturePass) {
  at::manual_seed(11);
  for (const char* architecture : {"LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"}) {
    const ModelConfig config = testing::tiny_config(architecture);
    testing::TemporaryDirectory dir("valid");
    testing::write_model_folder(dir.path(), config.raw, testing::random_state_dict(config, /*with_lm_head=*/true));
    EXPECT_EQ(problem_of(dir.path(), config.raw), "") << architecture;
  }
}

TEST(CheckpointValidation, MissingTransposedAndMistypedTensorsAreNamed) {
  at::manual_seed(12);
  const ModelConfig config = testing::tiny_config("LlamaForCausalLM");
  const auto tensors = testing::random_state_dict(config, /*with_lm_head=*/true);
  const std::string last = "model.layers." + std::to_string(config.num_hidden_layers - 1) + ".";
  {
    testing::TemporaryDirectory dir("missing");
    testing::write_model_folder(dir.path(), config.raw, without(tensors, last + "mlp.up_proj.weight"));
    EXPECT_THAT(problem_of(dir.path(), config.raw), HasSubstr("\"" + last + "mlp.up_proj.weight\" is missing"));
  }
  {
    testing::TemporaryDirectory dir("transposed");
    auto changed = tensors;
    for (auto& t : changed) {
      if (t.name == last + "mlp.down_proj.weight") t.tensor = t.tensor.t().contiguous();
    }
    testing::write_model_folder(dir.path(), config.raw, changed);
    const std::string problem = problem_of(dir.path(), config.raw);
    EXPECT_THAT(problem, HasSubstr("model.safetensors: tensor \"" + last + "mlp.down_proj.weight\" has shape"));
  }
  {
    testing::TemporaryDirectory dir("int32");
    auto changed = tensors;
    for (auto& t : changed) {
      if (t.name == "model.norm.weight") t.tensor = at::ones({config.hidden_size}, at::kInt);
    }
    testing::write_model_folder(dir.path(), config.raw, changed);
    EXPECT_THAT(problem_of(dir.path(), config.raw), HasSubstr("\"model.norm.weight\" is stored as I32"));
  }
}

TEST(CheckpointValidation, LayerCountMustMatchTheConfigBothWays) {
  at::manual_seed(13);
  const ModelConfig config = testing::tiny_config("LlamaForCausalLM");
  testing::TemporaryDirectory dir("depth");
  testing::write_model_folder(dir.path(), config.raw, testing::random_state_dict(config, /*with_lm_head=*/true));
  auto shallower = config.raw;
  shallower["num_hidden_layers"] = config.num_hidden_layers - 1;
  EXPECT_THAT(problem_of(dir.path(), shallower), HasSubstr("a checkpoint deeper than its config"));
  auto deeper = config.raw;
  deeper["num_hidden_layers"] = config.num_hidden_layers + 1;
  EXPECT_THAT(problem_of(dir.path(), deeper),
              HasSubstr("\"model.layers." + std::to_string(config.num_hidden_layers) + "."));
}

// DeepSeek-V3 releases store num_nextn_predict_layers multi-token-prediction layers after the
// decoder layers; transformers ignores them when loading, and so does the validation, but only
// as many as config.json declares.
TEST(CheckpointValidation, DeepseekNextTokenPredictionLayersAreIgnoredAsDeclared) {
  const std::filesystem::path fixture = std::filesystem::path(DCOMP_SOURCE_DIR) / "tests/model/fixtures/deepseek_v3";
  const ModelConfig config = ModelConfig::from_dir(fixture);
  ASSERT_EQ(config.next_token_prediction_layers, 1);
  const io::CheckpointReader source(fixture);
  std::vector<io::NamedTensor> tensors;
  for (const auto& name : source.names()) tensors.push_back({name, source.load(name).clone(), std::nullopt});
  tensors.push_back({"model.layers.2.eh_proj.weight", at::zeros({64, 128}, at::kBFloat16), std::nullopt});
  tensors.push_back({"model.layers.2.enorm.weight", at::ones({64}, at::kBFloat16), std::nullopt});
  testing::TemporaryDirectory dir("mtp");
  testing::write_model_folder(dir.path(), config.raw, tensors);
  EXPECT_EQ(problem_of(dir.path(), config.raw), "");
  auto without_mtp = config.raw;
  without_mtp["num_nextn_predict_layers"] = 0;
  EXPECT_THAT(problem_of(dir.path(), without_mtp), HasSubstr("a checkpoint deeper than its config"));
}

TEST(CheckpointValidation, AnIndexNamingTheWrongShardIsFound) {
  at::manual_seed(14);
  const ModelConfig config = testing::tiny_config("LlamaForCausalLM");
  auto tensors = testing::random_state_dict(config, /*with_lm_head=*/true);
  testing::TemporaryDirectory dir("index");
  std::ofstream(dir.path() / "config.json") << config.raw.dump(2);
  const size_t half = tensors.size() / 2;
  const std::vector<io::NamedTensor> first(tensors.begin(), tensors.begin() + half);
  const std::vector<io::NamedTensor> second(tensors.begin() + half, tensors.end());
  io::write_safetensors(dir.path() / "model-00001-of-00002.safetensors", first);
  io::write_safetensors(dir.path() / "model-00002-of-00002.safetensors", second);
  nlohmann::json map = nlohmann::json::object();
  for (const auto& t : first) map[t.name] = "model-00001-of-00002.safetensors";
  for (const auto& t : second) map[t.name] = "model-00002-of-00002.safetensors";
  std::ofstream(dir.path() / "model.safetensors.index.json") << nlohmann::json{{"weight_map", map}}.dump();
  EXPECT_EQ(problem_of(dir.path(), config.raw), "");

  map[second.back().name] = "model-00001-of-00002.safetensors";  // the wrong shard
  std::ofstream(dir.path() / "model.safetensors.index.json") << nlohmann::json{{"weight_map", map}}.dump();
  EXPECT_THAT(problem_of(dir.path(), config.raw), HasSubstr("but that file has no such tensor"));
}

TEST(CheckpointValidation, ATiedHeadMayBeStoredUnderEitherName) {
  at::manual_seed(15);
  auto json = testing::tiny_config("LlamaForCausalLM").raw;
  json["tie_word_embeddings"] = true;
  const ModelConfig config = ModelConfig::from_json(json);
  auto tensors = testing::random_state_dict(config, /*with_lm_head=*/false);
  testing::TemporaryDirectory dir("tied");
  testing::write_model_folder(dir.path(), json, tensors);
  EXPECT_EQ(problem_of(dir.path(), json), "");
  for (auto& t : tensors) {
    if (t.name == "model.embed_tokens.weight") t.name = "lm_head.weight";
  }
  testing::TemporaryDirectory dir2("tied-head");
  testing::write_model_folder(dir2.path(), json, tensors);
  EXPECT_EQ(problem_of(dir2.path(), json), "");
}

}  // namespace
}  // namespace dcomp::model
