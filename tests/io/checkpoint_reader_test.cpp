// CheckpointReader over single-file and sharded model folders written by the writer.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "kernels/io/safetensors.hpp"
#include "tests/io/io_test_support.hpp"

namespace dcomp::io {
namespace {

using ::testing::HasSubstr;
using testing::error_message_of;
using testing::read_bytes;
using testing::TempDir;
using testing::write_bytes;

const char* const kShard1 = "model-00001-of-00002.safetensors";
const char* const kShard2 = "model-00002-of-00002.safetensors";

// A two-layer model: the embedding and layer 0 in shard 1, layer 1 and the norm in shard 2.
class ShardedCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    at::manual_seed(7);
    tensors_ = {
        {"model.embed_tokens.weight", at::randn({16, 8})},
        {"model.layers.0.self_attn.q_proj.weight", at::randn({8, 8}).to(at::kBFloat16)},
        {"model.layers.0.mlp.up_proj.weight", at::randn({12, 8})},
        {"model.layers.1.self_attn.q_proj.weight", at::randn({8, 8}).to(at::kBFloat16)},
        {"model.layers.1.mlp.up_proj.weight", at::randn({12, 8})},
        {"model.layers.10.mlp.up_proj.weight", at::randn({12, 8})},
        {"model.norm.weight", at::randn({8})},
    };
    std::vector<NamedTensor> shard1, shard2;
    std::map<std::string, std::string> weight_map;
    uint64_t total_size = 0;
    for (const auto& [name, tensor] : tensors_) {
      const bool first = name.rfind("model.embed", 0) == 0 || name.rfind("model.layers.0.", 0) == 0;
      (first ? shard1 : shard2).push_back({name, tensor, {}});
      weight_map[name] = first ? kShard1 : kShard2;
      total_size += tensor.numel() * tensor.element_size();
    }
    write_safetensors(dir_ / kShard1, shard1);
    write_safetensors(dir_ / kShard2, shard2);
    write_safetensors_index(dir_ / "model.safetensors.index.json", weight_map, total_size);
    total_size_ = total_size;
  }

  TempDir dir_;
  std::map<std::string, at::Tensor> tensors_;
  uint64_t total_size_ = 0;
};

TEST_F(ShardedCheckpoint, IndexFileHasTheHuggingFaceLayout) {
  const auto index = nlohmann::json::parse(read_bytes(dir_ / "model.safetensors.index.json"));
  EXPECT_EQ(index["metadata"]["total_size"], total_size_);
  EXPECT_EQ(index["weight_map"].size(), tensors_.size());
  EXPECT_EQ(index["weight_map"]["model.norm.weight"], kShard2);
  EXPECT_EQ(index["weight_map"]["model.layers.0.mlp.up_proj.weight"], kShard1);
}

TEST_F(ShardedCheckpoint, ListsAndLoadsEveryTensor) {
  const CheckpointReader reader(dir_.path());
  EXPECT_EQ(reader.directory(), dir_.path());
  std::vector<std::string> expected_names;
  for (const auto& entry : tensors_) expected_names.push_back(entry.first);  // std::map: sorted
  EXPECT_EQ(reader.names(), expected_names);
  for (const auto& [name, tensor] : tensors_) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(reader.contains(name));
    EXPECT_TRUE(at::equal(reader.load(name), tensor));
    EXPECT_EQ(reader.info(name).shape, tensor.sizes().vec());
  }
  EXPECT_EQ(reader.file_of("model.norm.weight"), dir_ / kShard2);
  EXPECT_EQ(reader.info("model.layers.1.self_attn.q_proj.weight").dtype, DType::BF16);
}

TEST_F(ShardedCheckpoint, LoadPrefixReturnsExactlyOneLayer) {
  const CheckpointReader reader(dir_.path());
  const auto layer1 = reader.load_prefix("model.layers.1.");
  ASSERT_EQ(layer1.size(), 2u);  // not model.layers.10.*
  EXPECT_TRUE(at::equal(layer1.at("model.layers.1.mlp.up_proj.weight"), tensors_["model.layers.1.mlp.up_proj.weight"]));
  EXPECT_TRUE(at::equal(layer1.at("model.layers.1.self_attn.q_proj.weight"),
                        tensors_["model.layers.1.self_attn.q_proj.weight"]));
  EXPECT_TRUE(reader.load_prefix("model.layers.7.").empty());
}

TEST_F(ShardedCheckpoint, ShardsAreOpenedOnlyWhenOneOfTheirTensorsIsRequested) {
  // Shard 2 exists but is garbage: everything in shard 1 must still load.
  write_bytes(dir_ / kShard2, "not a safetensors file at all");
  const CheckpointReader reader(dir_.path());
  EXPECT_EQ(reader.names().size(), tensors_.size());
  EXPECT_EQ(reader.file_of("model.norm.weight"), dir_ / kShard2);  // no open needed
  const auto layer0 = reader.load_prefix("model.layers.0.");
  EXPECT_EQ(layer0.size(), 2u);
  EXPECT_TRUE(at::equal(reader.load("model.embed_tokens.weight"), tensors_["model.embed_tokens.weight"]));

  const std::string message = error_message_of([&] { reader.load_prefix("model.layers.1."); });
  EXPECT_THAT(message, HasSubstr((dir_ / kShard2).string() + ": header length"));
}

TEST_F(ShardedCheckpoint, MissingShardNamesTheShardAndTheIndex) {
  std::filesystem::remove(dir_ / kShard2);
  const std::string message = error_message_of([&] { CheckpointReader reader(dir_.path()); });
  EXPECT_THAT(message, HasSubstr((dir_ / "model.safetensors.index.json").string() + ": "));
  EXPECT_THAT(message, HasSubstr("shard '" + std::string(kShard2) + "'"));
  EXPECT_THAT(message, HasSubstr("does not exist"));
}

TEST_F(ShardedCheckpoint, TensorListedInTheIndexButAbsentFromItsShard) {
  write_safetensors_index(dir_ / "model.safetensors.index.json",
                          {{"model.norm.weight", kShard2}, {"model.ghost.weight", kShard2}}, 0);
  const CheckpointReader reader(dir_.path());
  EXPECT_THAT(error_message_of([&] { reader.load("model.ghost.weight"); }),
              HasSubstr("lists tensor 'model.ghost.weight' in shard '" + std::string(kShard2) +
                        "', but that file has no such tensor"));
}

TEST_F(ShardedCheckpoint, AbsentTensorIsNamed) {
  const CheckpointReader reader(dir_.path());
  EXPECT_FALSE(reader.contains("lm_head.weight"));
  EXPECT_THAT(error_message_of([&] { reader.load("lm_head.weight"); }), HasSubstr("no tensor named 'lm_head.weight'"));
  EXPECT_THAT(error_message_of([&] { reader.file_of("lm_head.weight"); }), HasSubstr("no tensor named"));
}

TEST_F(ShardedCheckpoint, IndexThatIsNotValidJson) {
  write_bytes(dir_ / "model.safetensors.index.json", R"({"weight_map": {"a": )");
  const std::string message = error_message_of([&] { CheckpointReader reader(dir_.path()); });
  EXPECT_THAT(message, HasSubstr("model.safetensors.index.json: not valid JSON"));
}

TEST_F(ShardedCheckpoint, IndexWithoutWeightMap) {
  write_bytes(dir_ / "model.safetensors.index.json", R"({"metadata": {"total_size": 0}})");
  EXPECT_THAT(error_message_of([&] { CheckpointReader reader(dir_.path()); }),
              HasSubstr("model.safetensors.index.json: has no \"weight_map\" object"));
}

TEST_F(ShardedCheckpoint, IndexThatPointsOutsideItsFolder) {
  write_bytes(dir_ / "model.safetensors.index.json", R"({"weight_map": {"a": "../elsewhere.safetensors"}})");
  EXPECT_THAT(error_message_of([&] { CheckpointReader reader(dir_.path()); }),
              HasSubstr("names shard '../elsewhere.safetensors', which is not a plain file name"));
}

TEST(CheckpointReaderSingleFile, ReadsModelSafetensors) {
  TempDir dir;
  const at::Tensor w = at::arange(6, at::kFloat).reshape({2, 3});
  write_safetensors(dir / "model.safetensors", {{"b.weight", w, {}}, {"a.weight", w * 2, {}}});
  const CheckpointReader reader(dir.path());
  EXPECT_EQ(reader.names(), (std::vector<std::string>{"a.weight", "b.weight"}));
  EXPECT_TRUE(at::equal(reader.load("a.weight"), w * 2));
  EXPECT_EQ(reader.file_of("b.weight"), dir / "model.safetensors");
  EXPECT_THAT(error_message_of([&] { reader.load("c.weight"); }),
              HasSubstr((dir / "model.safetensors").string() + ": no tensor named 'c.weight'"));
}

TEST(CheckpointReaderSingleFile, ReaderCanBeMoved) {
  TempDir dir;
  write_safetensors(dir / "model.safetensors", {{"w", at::ones({3}), {}}});
  CheckpointReader first(dir.path());
  CheckpointReader second(std::move(first));
  EXPECT_TRUE(at::equal(second.load("w"), at::ones({3})));
}

TEST(CheckpointReaderSingleFile, FolderWithoutCheckpoint) {
  TempDir dir;
  EXPECT_THAT(error_message_of([&] { CheckpointReader reader(dir.path()); }),
              HasSubstr("holds neither model.safetensors.index.json nor model.safetensors"));
  EXPECT_THAT(error_message_of([&] { CheckpointReader reader(dir / "absent"); }), HasSubstr("no such directory"));
}

}  // namespace
}  // namespace dcomp::io
