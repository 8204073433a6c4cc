// Calibration samples sharded over ranks: fixed chunks by global index, whole chunks dealt to
// ranks contiguously. Checked against ranges worked out by hand, and for every rank count
// from 1 to 6, that the ranks together hold every sample exactly once, in order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "pipeline/calibration_data.hpp"

namespace dcomp::pipeline {
namespace {

using Samples = std::vector<std::vector<int32_t>>;
using Range = std::pair<size_t, size_t>;

/// 11 distinct samples, sample i = {1, 100 + i, ...} of length 1 + i % 3 (BOS first):
/// lengths 1 2 3 1 2 3 1 2 3 1 2, 21 tokens in all.
Samples eleven_samples() {
  Samples samples;
  for (int32_t i = 0; i < 11; ++i) {
    std::vector<int32_t> sample{1};
    for (int32_t t = 1; t < 1 + i % 3; ++t) sample.push_back(100 + i + 1000 * t);
    samples.push_back(sample);
  }
  return samples;
}

TEST(CalibrationData, ChunkRangesAreDealtContiguouslyByFloorDivision) {
  // Rank r of w holds chunks [⌊n·r/w⌋, ⌊n·(r+1)/w⌋).
  EXPECT_EQ(rank_chunk_range(10, 0, 3), Range(0, 3));
  EXPECT_EQ(rank_chunk_range(10, 1, 3), Range(3, 6));
  EXPECT_EQ(rank_chunk_range(10, 2, 3), Range(6, 10));
  EXPECT_EQ(rank_chunk_range(2, 0, 3), Range(0, 0));  // more ranks than chunks: some hold none
  EXPECT_EQ(rank_chunk_range(2, 1, 3), Range(0, 1));
  EXPECT_EQ(rank_chunk_range(2, 2, 3), Range(1, 2));
  EXPECT_EQ(rank_chunk_range(7, 0, 1), Range(0, 7));
  EXPECT_EQ(rank_chunk_range(7, 0, 0), Range(0, 7));  // no ranks counts as one
  EXPECT_EQ(rank_chunk_range(0, 1, 2), Range(0, 0));
}

TEST(CalibrationData, TwoRanksOfChunksOfFourHoldTheHandComputedSamples) {
  // 11 samples in chunks of 4: chunks start at 0, 4, 8 (the last of 3 samples); rank 0 holds
  // chunk 0 (⌊3·1/2⌋ = 1), rank 1 chunks 1 and 2.
  const Samples all = eleven_samples();
  const CalibrationShard rank0(all, 4, 0, 2), rank1(all, 4, 1, 2);
  ASSERT_EQ(rank0.chunks().size(), 1u);
  EXPECT_EQ(rank0.chunks()[0].first_sample, 0u);
  EXPECT_EQ(rank0.chunks()[0].samples, Samples(all.begin(), all.begin() + 4));
  ASSERT_EQ(rank1.chunks().size(), 2u);
  EXPECT_EQ(rank1.chunks()[0].first_sample, 4u);
  EXPECT_EQ(rank1.chunks()[0].samples, Samples(all.begin() + 4, all.begin() + 8));
  EXPECT_EQ(rank1.chunks()[1].first_sample, 8u);
  EXPECT_EQ(rank1.chunks()[1].samples, Samples(all.begin() + 8, all.end()));
  EXPECT_EQ(rank0.local_samples(), 4u);
  EXPECT_EQ(rank1.local_samples(), 7u);
  EXPECT_EQ(rank0.total_samples(), 11u);
  EXPECT_EQ(rank1.total_samples(), 11u);
  EXPECT_EQ(rank0.local_tokens(), 1u + 2 + 3 + 1);              // samples 0-3
  EXPECT_EQ(rank1.local_tokens(), 2u + 3 + 1 + 2 + 3 + 1 + 2);  // samples 4-10
}

TEST(CalibrationData, EveryRankCountHoldsEverySampleOnceInOrder) {
  const Samples all = eleven_samples();
  for (size_t chunk_size : {1, 3, 4, 11, 20}) {
    for (int world = 1; world <= 6; ++world) {
      Samples gathered;
      size_t expected_first = 0, tokens = 0, local = 0;
      for (int rank = 0; rank < world; ++rank) {
        const CalibrationShard shard(all, chunk_size, rank, world);
        EXPECT_EQ(shard.total_samples(), all.size());
        for (const SampleChunk& chunk : shard.chunks()) {
          EXPECT_EQ(chunk.first_sample, expected_first) << "chunk size " << chunk_size << ", " << world << " ranks";
          EXPECT_EQ(chunk.samples.size(), std::min(chunk_size, all.size() - expected_first));
          expected_first += chunk.samples.size();
          gathered.insert(gathered.end(), chunk.samples.begin(), chunk.samples.end());
        }
        tokens += shard.local_tokens();
        local += shard.local_samples();
      }
      EXPECT_EQ(gathered, all) << "chunk size " << chunk_size << ", " << world << " ranks";
      EXPECT_EQ(local, all.size());
      EXPECT_EQ(tokens, 21u);
    }
  }
}

TEST(CalibrationData, AChunkKeepsItsSamplesWhateverTheRankCount) {
  // The chunk starting at sample 6 (chunks of 3) holds samples 6-8 on whichever rank holds it.
  const Samples all = eleven_samples();
  for (int world = 1; world <= 4; ++world) {
    for (int rank = 0; rank < world; ++rank) {
      const CalibrationShard shard(all, 3, rank, world);
      for (const SampleChunk& chunk : shard.chunks()) {
        if (chunk.first_sample == 6) EXPECT_EQ(chunk.samples, Samples(all.begin() + 6, all.begin() + 9));
      }
    }
  }
}

TEST(CalibrationData, ChunkSizeZeroMeansOneSamplePerChunk) {
  const Samples all = eleven_samples();
  const CalibrationShard shard(all, 0, 0, 1);
  ASSERT_EQ(shard.chunks().size(), all.size());
  for (size_t c = 0; c < all.size(); ++c) {
    EXPECT_EQ(shard.chunks()[c].first_sample, c);
    EXPECT_EQ(shard.chunks()[c].samples, Samples{all[c]});
  }
}

TEST(CalibrationData, NoSamplesMeansNoChunks) {
  const CalibrationShard shard({}, 4, 0, 2);
  EXPECT_TRUE(shard.chunks().empty());
  EXPECT_EQ(shard.local_samples(), 0u);
  EXPECT_EQ(shard.total_samples(), 0u);
  EXPECT_EQ(shard.local_tokens(), 0u);
}

TEST(CalibrationData, ARankBeyondTheChunksHoldsNothingButKnowsTheTotal) {
  // 11 samples in chunks of 6: 2 chunks over 4 ranks → ranks 0 and 2 hold none.
  const Samples all = eleven_samples();
  const CalibrationShard empty(all, 6, 0, 4);
  EXPECT_TRUE(empty.chunks().empty());
  EXPECT_EQ(empty.local_samples(), 0u);
  EXPECT_EQ(empty.total_samples(), 11u);
  const CalibrationShard last(all, 6, 3, 4);
  ASSERT_EQ(last.chunks().size(), 1u);
  EXPECT_EQ(last.chunks()[0].first_sample, 6u);
  EXPECT_EQ(last.local_samples(), 5u);
}

}  // namespace
}  // namespace dcomp::pipeline
