// A one-shot run's saved progress: the journal (progress/state.json) read back as plain JSON
// against the object written out here, a resumed run continuing where it stopped (with its
// reports, hidden states and layer shards), the leftovers of an unfinished layer removed, and
// journals that are corrupt, inconsistent or of other settings refused with the reason.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "kernels/io/safetensors.hpp"
#include "pipeline/run_progress.hpp"
#include "pipeline/threaded_ranks.hpp"
#include "tests/model/tiny_checkpoint.hpp"

namespace dcomp::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kHidden = 4;

/// 6 samples of length 3 in chunks of 2 (three chunks).
std::vector<std::vector<int32_t>> six_samples() { return std::vector<std::vector<int32_t>>(6, {1, 5, 9}); }

/// Hidden states of a shard's chunks: one batch [2, 3, 4] fp32 per chunk, filled with
/// first_sample + layer / 10 so that each chunk and layer is told apart.
HiddenStates hidden_after(const CalibrationShard& shard, int layer) {
  HiddenStates hidden;
  for (const SampleChunk& chunk : shard.chunks()) {
    hidden.chunks.push_back({at::full({2, 3, kHidden}, static_cast<double>(chunk.first_sample) + layer / 10.0)});
    hidden.samples_per_chunk.push_back(2);
  }
  return hidden;
}

json read_json(const fs::path& path) {
  std::ifstream stream(path);
  return json::parse(stream);
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

class RunProgressTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(temporary); }

  /// Writes the shard of decoder layer `layer`: one tensor "model.layers.<L>.w" [2, 3] fp32 (24 bytes).
  void write_layer_shard(int layer) const {
    io::write_safetensors(temporary / layer_shard_file(layer),
                          {{"model.layers." + std::to_string(layer) + ".w", at::zeros({2, 3}), {}}});
  }

  /// A single-rank run that completes layers [0, layers), saving the hidden states after each.
  void run_layers(int layers) const {
    auto comm = comm::make_single_communicator();
    RunProgress progress(temporary, fingerprint, /*resuming=*/false, *comm);
    const CalibrationShard shard(six_samples(), 2, 0, 1);
    for (int layer = 0; layer < layers; ++layer) {
      write_layer_shard(layer);
      const HiddenStates hidden = hidden_after(shard, layer);
      progress.commit_layer(layer, &shard, &hidden, {{"layer", layer}, {"loss", 0.5 * layer}});
    }
  }

  void expect_resume_refused(const std::vector<std::string>& fragments) const {
    auto comm = comm::make_single_communicator();
    try {
      RunProgress progress(temporary, fingerprint, /*resuming=*/true, *comm);
      ADD_FAILURE() << "the saved progress was accepted";
    } catch (const std::runtime_error& error) {
      for (const auto& fragment : fragments) {
        EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
      }
    }
  }

  model::testing::TemporaryDirectory folder{"run_progress"};
  const fs::path scratch = folder.path();
  const fs::path temporary = scratch / "out.tmp-abc";
  json fingerprint = {{"model", "tiny"}, {"recipe", {{"scheme", "W4A16"}, {"group_size", 128}}}, {"samples", 6}};
};

TEST(RunProgressNames, LayerShardsAreNumberedWithFiveDigits) {
  EXPECT_EQ(layer_shard_file(0), "layer-00000.safetensors");
  EXPECT_EQ(layer_shard_file(3), "layer-00003.safetensors");
  EXPECT_EQ(layer_shard_file(123456), "layer-123456.safetensors");
}

TEST_F(RunProgressTest, TheJournalHoldsTheFingerprintTheCountAndEveryReport) {
  run_layers(2);
  const json expected = {{"format", "dcomp-progress-1"},
                         {"fingerprint", fingerprint},
                         {"completed_layers", 2},
                         {"layers", json::array({{{"layer", 0}, {"loss", 0.0}}, {{"layer", 1}, {"loss", 0.5}}})}};
  EXPECT_EQ(read_json(temporary / "progress" / "state.json"), expected);
  // Only the hidden states entering the next layer are kept.
  EXPECT_FALSE(fs::exists(temporary / "progress" / "hidden-after-0"));
  EXPECT_TRUE(fs::is_regular_file(temporary / "progress" / "hidden-after-1" / "chunk-4.safetensors"));
}

TEST_F(RunProgressTest, AFreshRunStartsAtLayerZeroWhateverIsSaved) {
  run_layers(2);
  auto comm = comm::make_single_communicator();
  const RunProgress fresh(temporary, fingerprint, /*resuming=*/false, *comm);
  EXPECT_EQ(fresh.first_layer(), 0);
  EXPECT_TRUE(fresh.resumed_layer_shards().empty());
}

TEST_F(RunProgressTest, AResumedRunContinuesWithItsReportsHiddenStatesAndShards) {
  run_layers(2);
  auto comm = comm::make_single_communicator();
  const RunProgress resumed(temporary, fingerprint, /*resuming=*/true, *comm);
  EXPECT_EQ(resumed.first_layer(), 2);
  EXPECT_EQ(resumed.layer_reports(), json::array({{{"layer", 0}, {"loss", 0.0}}, {{"layer", 1}, {"loss", 0.5}}}));
  // Read by two ranks this time: rank 1 of 2 holds chunks 1 and 2 (samples 2-5).
  const CalibrationShard shard(six_samples(), 2, 1, 2);
  const HiddenStates hidden = resumed.load_hidden_states(shard, kHidden);
  ASSERT_EQ(hidden.chunks.size(), 2u);
  EXPECT_TRUE(at::equal(hidden.chunks[0][0], at::full({2, 3, kHidden}, 2.1)));
  EXPECT_TRUE(at::equal(hidden.chunks[1][0], at::full({2, 3, kHidden}, 4.1)));
  std::vector<ct::ShardRecord> shards = resumed.resumed_layer_shards();
  std::sort(shards.begin(), shards.end(), [](const auto& a, const auto& b) { return a.file < b.file; });
  ASSERT_EQ(shards.size(), 2u);
  EXPECT_EQ(shards[0].file, "layer-00000.safetensors");
  EXPECT_EQ(shards[0].tensors, std::vector<std::string>{"model.layers.0.w"});
  EXPECT_EQ(shards[0].bytes, 24u);
  EXPECT_EQ(shards[1].file, "layer-00001.safetensors");
}

TEST_F(RunProgressTest, ResumingRemovesTheUnfinishedLayersFiles) {
  run_layers(2);
  write_layer_shard(2);                                                     // written, never committed
  write_text(temporary / "layer-2.safetensors", "stray");                   // not a shard name
  write_text(temporary / "progress" / "hidden-after-2" / "chunk-0.safetensors", "partial");
  write_text(temporary / "progress" / "state.json.tmp", "{");               // a half-replaced journal
  write_text(temporary / "config.json", "{}");                              // not progress: kept
  auto comm = comm::make_single_communicator();
  const RunProgress resumed(temporary, fingerprint, /*resuming=*/true, *comm);
  std::set<std::string> left;
  for (const auto& entry : fs::recursive_directory_iterator(temporary)) {
    left.insert(fs::relative(entry.path(), temporary).string());
  }
  const std::set<std::string> expected{"config.json", "layer-00000.safetensors", "layer-00001.safetensors",
                                       "progress", "progress/state.json", "progress/hidden-after-1",
                                       "progress/hidden-after-1/chunk-0.safetensors",
                                       "progress/hidden-after-1/chunk-2.safetensors",
                                       "progress/hidden-after-1/chunk-4.safetensors"};
  EXPECT_EQ(left, expected);
}

TEST_F(RunProgressTest, OtherSettingsAreRefusedNamingThem) {
  run_layers(1);
  fingerprint["recipe"]["group_size"] = 32;
  fingerprint.erase("samples");
  fingerprint["seed"] = 7;
  expect_resume_refused({"state.json", "other settings (recipe: group_size, seed, samples)", "without --resume"});
}

TEST_F(RunProgressTest, AJournalThatIsNotJsonIsRefused) {
  run_layers(1);
  write_text(temporary / "progress" / "state.json", "{\"format\": \"dcomp-progress-1\", ");
  expect_resume_refused({"state.json", "not valid JSON"});
}

TEST_F(RunProgressTest, AJournalOfAnotherFormatIsRefused) {
  run_layers(1);
  json state = read_json(temporary / "progress" / "state.json");
  state["format"] = "dcomp-progress-0";
  write_text(temporary / "progress" / "state.json", state.dump());
  expect_resume_refused({"state.json", "not a dcomp progress file"});
  state["format"] = "dcomp-progress-1";
  state["completed_layers"] = "1";  // a string, not a count
  write_text(temporary / "progress" / "state.json", state.dump());
  expect_resume_refused({"not a dcomp progress file"});
}

TEST_F(RunProgressTest, ACountThatDisagreesWithTheReportsIsRefused) {
  run_layers(2);
  json state = read_json(temporary / "progress" / "state.json");
  state["completed_layers"] = 3;
  write_text(temporary / "progress" / "state.json", state.dump());
  expect_resume_refused({"inconsistent saved progress (completed_layers 3, 2 layer report(s))"});
}

TEST_F(RunProgressTest, AMissingShardOfACompleteLayerIsRefused) {
  run_layers(2);
  fs::remove(temporary / layer_shard_file(1));
  expect_resume_refused({"layer-00001.safetensors", "missing", "lists layer 1 as complete"});
}

TEST_F(RunProgressTest, NoJournalIsRefused) {
  expect_resume_refused({"state.json", "cannot read the saved progress"});
}

TEST_F(RunProgressTest, TwoRanksSaveTheirChunksAndBothResumeAtTheSameLayer) {
  testing::run_ranks(2, [&](comm::Communicator& comm) {
    RunProgress progress(temporary, fingerprint, false, comm);
    const CalibrationShard shard(six_samples(), 2, comm.rank(), 2);
    const HiddenStates hidden = hidden_after(shard, 0);
    if (comm.rank() == 0) write_layer_shard(0);
    progress.commit_layer(0, &shard, &hidden, {{"layer", 0}});
  });
  std::vector<int> first_layers(2);
  testing::run_ranks(2, [&](comm::Communicator& comm) {
    const RunProgress resumed(temporary, fingerprint, true, comm);
    first_layers[static_cast<size_t>(comm.rank())] = resumed.first_layer();
  });
  EXPECT_EQ(first_layers, (std::vector<int>{1, 1}));
  // One rank now reads the chunks both wrote.
  auto single = comm::make_single_communicator();
  const RunProgress alone(temporary, fingerprint, true, *single);
  const HiddenStates hidden = alone.load_hidden_states(CalibrationShard(six_samples(), 2, 0, 1), kHidden);
  ASSERT_EQ(hidden.chunks.size(), 3u);
  for (size_t c = 0; c < 3; ++c) EXPECT_TRUE(at::equal(hidden.chunks[c][0], at::full({2, 3, kHidden}, 2.0 * c)));
}

TEST_F(RunProgressTest, DiscardRemovesTheProgressFolderOnly) {
  run_layers(1);
  auto comm = comm::make_single_communicator();
  RunProgress progress(temporary, fingerprint, true, *comm);
  progress.discard();
  EXPECT_FALSE(fs::exists(temporary / "progress"));
  EXPECT_TRUE(fs::exists(temporary / layer_shard_file(0)));
}

TEST_F(RunProgressTest, TheInterruptedRunFoundIsTheOneThatSavedProgress) {
  const fs::path output = scratch / "out";
  EXPECT_FALSE(find_interrupted_run(output).has_value());  // out.tmp-abc has no journal yet
  fs::create_directories(scratch / "out.tmp-empty");
  fs::create_directories(scratch / "other.tmp-xyz" / "progress");
  write_text(scratch / "other.tmp-xyz" / "progress" / "state.json", "{}");  // another output's
  run_layers(1);
  const auto found = find_interrupted_run(output);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->filename(), "out.tmp-abc");
}

}  // namespace
}  // namespace dcomp::pipeline
