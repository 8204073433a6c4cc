// Reading a real published checkpoint: TinyStories-656K (see shared/data/README.md).
// Shapes follow from its config.json; the spot values were read from the file by
// an independent script (Python struct over the raw bytes).

#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "kernels/io/safetensors.hpp"
#include "tests/support/shared_data.hpp"

namespace dcomp::io {
namespace {

TEST(TinyStoriesCheckpoint, NamesAndShapesFollowTheConfig) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const auto model_dir = data / "tinystories-656k";
  std::ifstream config_stream(model_dir / "config.json");
  const auto config = nlohmann::json::parse(config_stream);
  const int64_t hidden = config["hidden_size"];
  const int64_t intermediate = config["intermediate_size"];
  const int64_t layers = config["num_hidden_layers"];
  const int64_t vocab = config["vocab_size"];
  const int64_t heads = config["num_attention_heads"];
  const int64_t kv_heads = config["num_key_value_heads"];
  ASSERT_EQ(hidden, 128);
  ASSERT_EQ(intermediate, 384);
  ASSERT_EQ(layers, 2);
  ASSERT_EQ(vocab, 2048);
  const int64_t kv_dim = kv_heads * (hidden / heads);

  std::map<std::string, std::vector<int64_t>> expected = {
      {"lm_head.weight", {vocab, hidden}},  // tied embeddings: stored once, as lm_head
      {"model.norm.weight", {hidden}},
  };
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    expected[p + "input_layernorm.weight"] = {hidden};
    expected[p + "post_attention_layernorm.weight"] = {hidden};
    expected[p + "self_attn.q_proj.weight"] = {hidden, hidden};
    expected[p + "self_attn.k_proj.weight"] = {kv_dim, hidden};
    expected[p + "self_attn.v_proj.weight"] = {kv_dim, hidden};
    expected[p + "self_attn.o_proj.weight"] = {hidden, hidden};
    expected[p + "mlp.gate_proj.weight"] = {intermediate, hidden};
    expected[p + "mlp.up_proj.weight"] = {intermediate, hidden};
    expected[p + "mlp.down_proj.weight"] = {hidden, intermediate};
  }

  const CheckpointReader reader(model_dir);
  std::vector<std::string> expected_names;
  for (const auto& entry : expected) expected_names.push_back(entry.first);
  EXPECT_EQ(reader.names(), expected_names);
  for (const auto& [name, shape] : expected) {
    SCOPED_TRACE(name);
    const TensorInfo info = reader.info(name);
    EXPECT_EQ(info.dtype, DType::F32);
    EXPECT_EQ(info.shape, shape);
    const at::Tensor tensor = reader.load(name);
    EXPECT_EQ(tensor.sizes().vec(), shape);
    EXPECT_TRUE(at::isfinite(tensor).all().item<bool>());
  }
  EXPECT_EQ(reader.load_prefix("model.layers.1.").size(), 9u);

  const auto file = SafetensorsFile::open(model_dir / "model.safetensors");
  EXPECT_EQ(file->metadata().at("format"), "pt");
}

TEST(TinyStoriesCheckpoint, SpotValuesMatchAnIndependentRead) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const CheckpointReader reader(data / "tinystories-656k");
  const at::Tensor lm_head = reader.load("lm_head.weight");
  EXPECT_EQ(lm_head[0][0].item<float>(), -0.68359375f);
  EXPECT_EQ(lm_head[0][1].item<float>(), -0.02587890625f);
  EXPECT_EQ(reader.load("model.norm.weight")[0].item<float>(), 0.640625f);
  EXPECT_EQ(reader.load("model.layers.1.mlp.down_proj.weight")[127][383].item<float>(), -0.1376953125f);
}

}  // namespace
}  // namespace dcomp::io
