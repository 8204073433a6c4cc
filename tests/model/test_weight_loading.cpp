// Loading weights from a checkpoint folder: dtype conversion, tied heads, bias
// presence and shape checks against config.json, and the error messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "kernels/io/safetensors.hpp"
#include "kernels/model/causal_lm.hpp"
#include "kernels/model/weight_loading.hpp"
#include "tests/model/tiny_checkpoint.hpp"

namespace dcomp::model {
namespace {

using ::testing::HasSubstr;

io::NamedTensor& find(std::vector<io::NamedTensor>& tensors, const std::string& name) {
  for (auto& tensor : tensors) {
    if (tensor.name == name) return tensor;
  }
  throw std::runtime_error("test state dict has no " + name);
}

std::string load_error(const std::filesystem::path& dir) {
  try {
    CausalLM::load(dir);
  } catch (const std::exception& error) {
    return error.what();
  }
  return "";
}

TEST(WeightLoading, Bf16WeightsBecomeFp32AndEqualTheStoredValues) {
  at::manual_seed(3);
  const ModelConfig config = testing::tiny_config("Qwen3ForCausalLM");
  auto tensors = testing::random_state_dict(config, /*with_lm_head=*/true);
  for (auto& tensor : tensors) tensor.tensor = tensor.tensor.to(at::kBFloat16);
  testing::TemporaryDirectory dir("bf16");
  testing::write_model_folder(dir.path(), config.raw, tensors);

  const io::CheckpointReader reader(dir.path());
  const DecoderLayerWeights layer = load_decoder_layer(reader, config, 1);
  const at::Tensor stored = find(tensors, "model.layers.1.mlp.down_proj.weight").tensor;
  EXPECT_EQ(layer.down_proj.weight.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(layer.down_proj.weight, stored.to(at::kFloat)));
  EXPECT_TRUE(at::equal(layer.parameter("self_attn.k_norm.weight"), find(tensors, "model.layers.1.self_attn.k_norm.weight").tensor.to(at::kFloat)));
  EXPECT_FALSE(layer.q_proj.bias.defined());
}

TEST(WeightLoading, HeadIsTiedWhenConfiguredOrAbsent) {
  at::manual_seed(4);
  auto json = testing::tiny_config("LlamaForCausalLM").raw;
  json["tie_word_embeddings"] = false;
  const ModelConfig config = ModelConfig::from_json(json);
  {
    testing::TemporaryDirectory dir("untied");
    const auto tensors = testing::random_state_dict(config, /*with_lm_head=*/true);
    testing::write_model_folder(dir.path(), json, tensors);
    const auto weights = load_embedding_and_head(io::CheckpointReader(dir.path()), config);
    EXPECT_FALSE(at::equal(weights.lm_head, weights.embed_tokens));
  }
  {
    testing::TemporaryDirectory dir("absent_head");
    testing::write_model_folder(dir.path(), json, testing::random_state_dict(config, /*with_lm_head=*/false));
    const auto weights = load_embedding_and_head(io::CheckpointReader(dir.path()), config);
    EXPECT_TRUE(weights.lm_head.is_same(weights.embed_tokens));
  }
  {
    json["tie_word_embeddings"] = true;  // an lm_head.weight on disk is ignored
    testing::TemporaryDirectory dir("tied");
    testing::write_model_folder(dir.path(), json, testing::random_state_dict(config, /*with_lm_head=*/true));
    const auto weights = load_embedding_and_head(io::CheckpointReader(dir.path()), ModelConfig::from_json(json));
    EXPECT_TRUE(weights.lm_head.is_same(weights.embed_tokens));
  }
  {
    // A tied checkpoint that stores the shared matrix only as lm_head.weight.
    auto tensors = testing::random_state_dict(config, /*with_lm_head=*/true);
    const at::Tensor head = find(tensors, "lm_head.weight").tensor;
    tensors.erase(tensors.begin());  // model.embed_tokens.weight
    testing::TemporaryDirectory dir("head_only");
    testing::write_model_folder(dir.path(), json, tensors);
    const auto weights = load_embedding_and_head(io::CheckpointReader(dir.path()), ModelConfig::from_json(json));
    EXPECT_TRUE(at::equal(weights.embed_tokens, head));
    EXPECT_TRUE(weights.lm_head.is_same(weights.embed_tokens));
  }
}

TEST(WeightLoading, ShapeContradictingConfigNamesTensorAndBothShapes) {
  at::manual_seed(5);
  const ModelConfig config = testing::tiny_config("LlamaForCausalLM");
  auto tensors = testing::random_state_dict(config, true);
  find(tensors, "model.layers.1.self_attn.k_proj.weight").tensor = at::randn({16, 16});  // config implies [8, 16]
  testing::TemporaryDirectory dir("bad_shape");
  testing::write_model_folder(dir.path(), config.raw, tensors);
  const std::string message = load_error(dir.path());
  EXPECT_THAT(message, HasSubstr("model.layers.1.self_attn.k_proj.weight"));
  EXPECT_THAT(message, HasSubstr("[16, 16]"));
  EXPECT_THAT(message, HasSubstr("[8, 16]"));
  EXPECT_THAT(message, HasSubstr("config.json"));
}

TEST(WeightLoading, EmbeddingShapeIsChecked) {
  at::manual_seed(6);
  auto json = testing::tiny_config("LlamaForCausalLM").raw;
  json["vocab_size"] = 60;  // the tensors below are written for 50
  testing::TemporaryDirectory dir("bad_vocab");
  testing::write_model_folder(dir.path(), json, testing::random_state_dict(testing::tiny_config("LlamaForCausalLM"), true));
  const std::string message = load_error(dir.path());
  EXPECT_THAT(message, HasSubstr("model.embed_tokens.weight"));
  EXPECT_THAT(message, HasSubstr("[50, 16]"));
  EXPECT_THAT(message, HasSubstr("[60, 16]"));
}

TEST(WeightLoading, BiasPresenceMustMatchTheArchitecture) {
  at::manual_seed(7);
  const ModelConfig qwen2 = testing::tiny_config("Qwen2ForCausalLM");
  // Qwen2 weights without the q/k/v biases.
  auto tensors = testing::random_state_dict(testing::tiny_config("LlamaForCausalLM"), true);
  testing::TemporaryDirectory dir("no_bias");
  testing::write_model_folder(dir.path(), qwen2.raw, tensors);
  EXPECT_THAT(load_error(dir.path()), HasSubstr("model.layers.0.self_attn.q_proj.bias\" is missing"));

  // Llama weights with biases the config does not declare.
  testing::TemporaryDirectory dir2("extra_bias");
  testing::write_model_folder(dir2.path(), testing::tiny_config("LlamaForCausalLM").raw,
                              testing::random_state_dict(qwen2, true));
  EXPECT_THAT(load_error(dir2.path()), HasSubstr("model.layers.0.self_attn.q_proj.bias\" is present"));
}

TEST(WeightLoading, MissingTensorAndCompressedCheckpointAreNamed) {
  at::manual_seed(8);
  const ModelConfig config = testing::tiny_config("LlamaForCausalLM");
  auto tensors = testing::random_state_dict(config, true);
  tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                               [](const io::NamedTensor& t) { return t.name == "model.layers.1.input_layernorm.weight"; }),
                tensors.end());
  testing::TemporaryDirectory dir("missing");
  testing::write_model_folder(dir.path(), config.raw, tensors);
  const std::string message = load_error(dir.path());
  EXPECT_THAT(message, HasSubstr("model.layers.1.input_layernorm.weight"));
  EXPECT_THAT(message, HasSubstr(dir.path().string()));

  auto json = config.raw;
  json["quantization_config"] = {{"quant_method", "compressed-tensors"}};
  testing::TemporaryDirectory dir2("compressed");
  testing::write_model_folder(dir2.path(), json, testing::random_state_dict(config, true));
  EXPECT_THAT(load_error(dir2.path()), HasSubstr("quantization_config"));
}

TEST(WeightLoading, NonFloatTensorIsRejectedInTheFilesTerms) {
  at::manual_seed(10);
  const ModelConfig config = testing::tiny_config("LlamaForCausalLM");
  auto tensors = testing::random_state_dict(config, true);
  auto& packed = find(tensors, "model.layers.0.self_attn.q_proj.weight");
  packed.tensor = packed.tensor.to(at::kChar);  // e.g. int8 codes of a quantized checkpoint
  testing::TemporaryDirectory dir("int8");
  testing::write_model_folder(dir.path(), config.raw, tensors);
  const std::string message = load_error(dir.path());
  EXPECT_THAT(message, HasSubstr("model.layers.0.self_attn.q_proj.weight\" is stored as I8"));
  EXPECT_THAT(message, HasSubstr("model.safetensors"));
}

TEST(WeightLoading, LinearLoaderReplacesThePlainReader) {
  at::manual_seed(9);
  const ModelConfig config = testing::tiny_config("LlamaForCausalLM");
  testing::TemporaryDirectory dir("loader");
  testing::write_model_folder(dir.path(), config.raw, testing::random_state_dict(config, true));
  const io::CheckpointReader reader(dir.path());
  std::vector<std::string> requested;
  const LinearLoader plain = safetensors_linear_loader(reader);
  const LinearLoader halved = [&](const std::string& name) {
    requested.push_back(name);
    LinearWeights weights = plain(name);
    weights.weight = weights.weight * 0.5;
    return weights;
  };
  const DecoderLayerWeights original = load_decoder_layer(reader, config, 0);
  const DecoderLayerWeights replaced = load_decoder_layer(reader, config, 0, halved);
  EXPECT_EQ(requested.size(), 7u);
  EXPECT_EQ(requested.front(), "model.layers.0.self_attn.q_proj");
  EXPECT_TRUE(at::allclose(replaced.o_proj.weight, original.o_proj.weight * 0.5));

  // A loader returning a wrong shape is caught like a bad file.
  const LinearLoader wrong = [](const std::string&) { return testing::random_linear(3, 3, false); };
  EXPECT_THROW(load_decoder_layer(reader, config, 0, wrong), ModelConfigError);
  EXPECT_THROW(load_decoder_layer(reader, config, 2), ModelConfigError);  // only layers 0 and 1
}

}  // namespace
}  // namespace dcomp::model
