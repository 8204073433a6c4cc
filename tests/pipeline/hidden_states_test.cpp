// This rank's calibration hidden states: the embedding of its samples, batched as runs of
// consecutive samples of equal length (shapes worked out by hand, rows looked up one token at
// a time), and their files in saved progress, which a run sharded over another number of
// ranks reads back; a missing or mis-shaped file is refused, named.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "kernels/io/safetensors.hpp"
#include "pipeline/hidden_states.hpp"
#include "tests/model/tiny_checkpoint.hpp"

namespace dcomp::pipeline {
namespace {

namespace fs = std::filesystem;
using Samples = std::vector<std::vector<int32_t>>;

constexpr int64_t kVocab = 50;
constexpr int64_t kHidden = 8;

/// 12 samples of lengths 3 3 2 2 3 | 4 4 4 1 1 | 2 5 (chunks of 5), token t of sample i
/// being (7·i + t) mod 50.
Samples twelve_samples() {
  const std::vector<int> lengths{3, 3, 2, 2, 3, 4, 4, 4, 1, 1, 2, 5};
  Samples samples;
  for (size_t i = 0; i < lengths.size(); ++i) {
    std::vector<int32_t> sample;
    for (int t = 0; t < lengths[i]; ++t) sample.push_back(static_cast<int32_t>((7 * i + t) % kVocab));
    samples.push_back(sample);
  }
  return samples;
}

model::EmbeddingAndHeadWeights random_embedding() {
  model::EmbeddingAndHeadWeights weights;
  weights.embed_tokens = at::randn({kVocab, kHidden});  // [vocab, hidden] fp32
  weights.final_norm = at::ones({kHidden});
  weights.lm_head = weights.embed_tokens;
  return weights;
}

/// The table's rows of samples [first, first + count), all of one length: [count, length, hidden].
at::Tensor looked_up(const at::Tensor& table, const Samples& samples, size_t first, size_t count) {
  const int64_t length = static_cast<int64_t>(samples[first].size());
  at::Tensor out = at::empty({static_cast<int64_t>(count), length, kHidden});
  for (size_t b = 0; b < count; ++b) {
    for (int64_t t = 0; t < length; ++t) out[b][t].copy_(table[samples[first + b][static_cast<size_t>(t)]]);
  }
  return out;
}

/// Every batch of `hidden` against the hand-worked batching of twelve_samples in chunks of 5.
void expect_hand_batched(const HiddenStates& hidden, const at::Tensor& table, const Samples& all, size_t first_chunk) {
  // Per chunk: (first sample, count) of each run of equal lengths.
  const std::vector<std::vector<std::pair<size_t, size_t>>> runs{
      {{0, 2}, {2, 2}, {4, 1}}, {{5, 3}, {8, 2}}, {{10, 1}, {11, 1}}};
  ASSERT_EQ(hidden.chunks.size(), runs.size() - first_chunk);
  for (size_t c = 0; c < hidden.chunks.size(); ++c) {
    const auto& expected = runs[first_chunk + c];
    ASSERT_EQ(hidden.chunks[c].size(), expected.size()) << "chunk " << first_chunk + c;
    size_t samples = 0;
    for (size_t b = 0; b < expected.size(); ++b) {
      const at::Tensor reference = looked_up(table, all, expected[b].first, expected[b].second);
      EXPECT_EQ(hidden.chunks[c][b].sizes(), reference.sizes()) << "chunk " << first_chunk + c << " batch " << b;
      EXPECT_TRUE(at::equal(hidden.chunks[c][b], reference)) << "chunk " << first_chunk + c << " batch " << b;
      samples += expected[b].second;
    }
    EXPECT_EQ(hidden.samples_per_chunk[c], static_cast<int64_t>(samples));
  }
}

TEST(HiddenStates, EmbeddingBatchesRunsOfEqualLengthWithTheTablesRows) {
  const Samples all = twelve_samples();
  const model::EmbeddingAndHeadWeights weights = random_embedding();
  const HiddenStates hidden = embed_samples(CalibrationShard(all, 5, 0, 1), weights);
  expect_hand_batched(hidden, weights.embed_tokens, all, 0);
  // The same lengths not adjacent stay apart: chunk 0's last sample (length 3) is its own batch.
  EXPECT_EQ(hidden.chunks[0][2].sizes(), (std::vector<int64_t>{1, 3, kHidden}));
}

TEST(HiddenStates, ARanksEmbeddingHoldsOnlyItsChunks) {
  // Chunks of 5 over 2 ranks: rank 0 chunk 0 (⌊3/2⌋ = 1), rank 1 chunks 1 and 2.
  const Samples all = twelve_samples();
  const model::EmbeddingAndHeadWeights weights = random_embedding();
  expect_hand_batched(embed_samples(CalibrationShard(all, 5, 1, 2), weights), weights.embed_tokens, all, 1);
  EXPECT_EQ(embed_samples(CalibrationShard(all, 5, 0, 2), weights).chunks.size(), 1u);
}

class SavedHiddenStates : public ::testing::Test {
 protected:
  /// Each of `world` ranks saves the embedding of its chunks (of 5) into `scratch`.
  void save_from_ranks(int world) {
    for (int rank = 0; rank < world; ++rank) {
      const CalibrationShard shard(all, 5, rank, world);
      save_hidden_states(scratch, shard, embed_samples(shard, weights));
    }
  }

  model::testing::TemporaryDirectory folder{"hidden_states"};
  const fs::path scratch = folder.path();
  Samples all = twelve_samples();
  model::EmbeddingAndHeadWeights weights = random_embedding();
};

TEST_F(SavedHiddenStates, FilesAreNamedByEachChunksFirstSample) {
  save_from_ranks(2);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(scratch)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"chunk-0.safetensors", "chunk-10.safetensors", "chunk-5.safetensors"}));
}

TEST_F(SavedHiddenStates, SavedByTwoRanksAndReadByOneOrThree) {
  save_from_ranks(2);
  expect_hand_batched(load_hidden_states(scratch, CalibrationShard(all, 5, 0, 1), kHidden), weights.embed_tokens, all,
                      0);
  // Three ranks: one chunk each.
  for (int rank = 0; rank < 3; ++rank) {
    const HiddenStates hidden = load_hidden_states(scratch, CalibrationShard(all, 5, rank, 3), kHidden);
    ASSERT_EQ(hidden.chunks.size(), 1u);
    const HiddenStates all_chunks = embed_samples(CalibrationShard(all, 5, 0, 1), weights);
    for (size_t b = 0; b < hidden.chunks[0].size(); ++b) {
      EXPECT_TRUE(at::equal(hidden.chunks[0][b], all_chunks.chunks[static_cast<size_t>(rank)][b])) << "rank " << rank;
    }
  }
}

void expect_refused(const std::function<void()>& load, const std::vector<std::string>& fragments) {
  try {
    load();
    FAIL() << "accepted";
  } catch (const std::runtime_error& error) {
    for (const std::string& fragment : fragments) {
      EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
    }
  }
}

TEST_F(SavedHiddenStates, AnotherChunkingFindsAMissingFile) {
  save_from_ranks(1);
  // Chunks of 4 start at samples 0, 4 and 8; rank 1 of 3 holds the one at 4, never written.
  expect_refused([&] { load_hidden_states(scratch, CalibrationShard(all, 4, 1, 3), kHidden); },
                 {"chunk-4.safetensors", "missing"});
}

TEST_F(SavedHiddenStates, AnotherHiddenSizeIsRefusedNamingTheTensor) {
  save_from_ranks(1);
  expect_refused([&] { load_hidden_states(scratch, CalibrationShard(all, 5, 0, 1), kHidden + 1); },
                 {"chunk-0.safetensors", "batch.0", "shape"});
}

TEST_F(SavedHiddenStates, AFileWithTheWrongNumberOfBatchesIsRefused) {
  save_from_ranks(1);
  // Chunk 5's samples form 2 batches; overwrite its file with one.
  io::write_safetensors(scratch / "chunk-5.safetensors", {{"batch.0", at::zeros({3, 4, kHidden}), {}}});
  expect_refused([&] { load_hidden_states(scratch, CalibrationShard(all, 5, 0, 1), kHidden); },
                 {"chunk-5.safetensors", "holds 1 batch(es), the samples form 2"});
}

TEST_F(SavedHiddenStates, ABatchStoredInAnotherDtypeIsRefused) {
  save_from_ranks(1);
  io::write_safetensors(scratch / "chunk-10.safetensors",
                        {{"batch.0", at::zeros({1, 2, kHidden}, at::kHalf), {}},
                         {"batch.1", at::zeros({1, 5, kHidden}), {}}});
  expect_refused([&] { load_hidden_states(scratch, CalibrationShard(all, 5, 0, 1), kHidden); },
                 {"chunk-10.safetensors", "batch.0", "fp32"});
}

}  // namespace
}  // namespace dcomp::pipeline
