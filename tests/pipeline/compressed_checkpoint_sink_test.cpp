// The checkpoint sink writing a dense (uncompressed) model from the llama3 fixture that
// transformers wrote (2 layers, hidden 64, bf16): every tensor doubled (exact in bf16) and
// handed over as the pipeline does. The output must hold exactly the fixture's tensor names,
// each the fixture's value times two in bf16, plus the recipe and the extra files; and one
// rank and two ranks (threads, each layer written by rank layer mod 2) must write the same
// files, byte for byte.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include "kernels/io/layer_names.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/layer_layout.hpp"
#include "pipeline/compressed_checkpoint_sink.hpp"
#include "pipeline/threaded_ranks.hpp"
#include "tests/model/tiny_checkpoint.hpp"

namespace dcomp::pipeline {
namespace {

namespace fs = std::filesystem;

fs::path llama3_fixture() { return fs::path(DCOMP_SOURCE_DIR) / "tests/model/fixtures/llama3"; }

/// The fixture's tensor, as fp32, times two.
at::Tensor doubled(const io::CheckpointReader& source, const std::string& name) {
  return source.load(name).to(at::kFloat) * 2;
}

/// Decoder layer `layer` as the pipeline hands it over uncompressed: every Linear's weight
/// [out, in] fp32 and both norms [64] fp32, doubled.
lifecycle::LayerWork doubled_layer(const io::CheckpointReader& source, const model::ModelConfig& config, int layer) {
  lifecycle::LayerWork work;
  work.layer_index = layer;
  const model::LayerLayout layout = model::decoder_layer_layout(config, layer);
  for (const auto& input : layout.inputs) {
    for (const auto& relative : input.linears) {
      lifecycle::LinearModule module;
      module.name = io::layer_module_name(layer, relative);
      module.weight = doubled(source, module.name + ".weight");
      module.input = io::layer_module_name(layer, input.key);
      work.linears.push_back(module);
    }
  }
  for (const auto& norm : layout.smoothable_norms()) {
    const std::string name = io::layer_module_name(layer, norm);
    work.norm_weights[name] = doubled(source, name + ".weight");
  }
  return work;
}

/// Writes the doubled model into `output` with `world` ranks.
void write_doubled_model(const fs::path& output, int world) {
  const model::ModelConfig config = model::ModelConfig::from_dir(llama3_fixture());
  const io::CheckpointReader source(llama3_fixture());
  model::EmbeddingAndHeadWeights head;
  head.embed_tokens = doubled(source, "model.embed_tokens.weight");
  head.final_norm = doubled(source, "model.norm.weight");
  head.lm_head = doubled(source, "lm_head.weight");
  testing::run_ranks(world, [&](comm::Communicator& comm) {
    CompressedCheckpointSink sink(llama3_fixture(), output, config, /*overwrite=*/false, "dense_stage: {}\n", comm);
    EXPECT_EQ(sink.model_dtype(), at::kBFloat16);
    const model::DecoderLayerWeights unused;
    for (int layer = 0; layer < config.num_hidden_layers; ++layer) {
      sink.write_layer(doubled_layer(source, config, layer), unused);
    }
    sink.write_embedding_and_head(head, nullptr);
    sink.finish(lifecycle::CompressionPlan{}, {}, {{"dcomp_report.json", "{\"ok\": true}\n"}});
  });
}

std::string file_bytes(const fs::path& path) {
  std::ifstream stream(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>());
}

/// Every regular file under `folder` by relative name → its bytes.
std::map<std::string, std::string> folder_bytes(const fs::path& folder) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file()) files[fs::relative(entry.path(), folder).string()] = file_bytes(entry.path());
  }
  return files;
}

class CompressedCheckpointSinkTest : public ::testing::Test {
 protected:
  model::testing::TemporaryDirectory folder{"sink"};
  const fs::path scratch = folder.path();
};

TEST_F(CompressedCheckpointSinkTest, ADenseModelHoldsTheFixturesTensorsAsHandedOver) {
  const fs::path output = scratch / "out";
  write_doubled_model(output, 1);
  const io::CheckpointReader source(llama3_fixture());
  const io::CheckpointReader written(output);
  EXPECT_EQ(written.names(), source.names());
  for (const std::string& name : source.names()) {
    const at::Tensor stored = written.load(name);
    EXPECT_EQ(stored.scalar_type(), at::kBFloat16) << name;
    EXPECT_TRUE(at::equal(stored, source.load(name) * 2)) << name;  // doubling is exact in bf16
  }
  EXPECT_EQ(file_bytes(output / "recipe.yaml"), "dense_stage: {}\n");
  EXPECT_EQ(file_bytes(output / "dcomp_report.json"), "{\"ok\": true}\n");
  EXPECT_TRUE(fs::is_regular_file(output / "config.json"));
  // Nothing of the temporary folder is left beside the output.
  for (const auto& entry : fs::directory_iterator(scratch)) EXPECT_EQ(entry.path().filename(), "out");
}

TEST_F(CompressedCheckpointSinkTest, TwoRanksWriteTheSameFilesAsOne) {
  write_doubled_model(scratch / "one", 1);
  write_doubled_model(scratch / "two", 2);
  const std::map<std::string, std::string> one = folder_bytes(scratch / "one");
  const std::map<std::string, std::string> two = folder_bytes(scratch / "two");
  ASSERT_FALSE(one.empty());
  std::vector<std::string> names_one, names_two;
  for (const auto& [name, bytes] : one) names_one.push_back(name);
  for (const auto& [name, bytes] : two) names_two.push_back(name);
  EXPECT_EQ(names_one, names_two);
  for (const auto& [name, bytes] : one) {
    if (two.count(name)) EXPECT_TRUE(bytes == two.at(name)) << name << " differs";
  }
}

TEST_F(CompressedCheckpointSinkTest, AnExistingOutputIsRefusedWithoutOverwrite) {
  const fs::path output = scratch / "out";
  fs::create_directories(output);
  const model::ModelConfig config = model::ModelConfig::from_dir(llama3_fixture());
  auto comm = comm::make_single_communicator();
  try {
    CompressedCheckpointSink sink(llama3_fixture(), output, config, /*overwrite=*/false, "", *comm);
    ADD_FAILURE() << "an existing output folder was accepted";
  } catch (const ct::CheckpointWriteError& error) {
    EXPECT_NE(std::string(error.what()).find("already exists"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace dcomp::pipeline
