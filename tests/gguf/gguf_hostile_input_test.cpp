// GGUF files from sources dcomp does not control: tensor names are bounded as llama.cpp
// bounds them (GGML_MAX_NAME), tokens by a stated length, counts by what the file holds,
// and the SentencePiece merges rebuilt from a vocabulary in time linear in its size
// (with their total bounded), each refusal naming the file, the field and the index.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "gguf_builder.hpp"
#include "kernels/gguf/gguf_file.hpp"
#include "kernels/gguf/gguf_tokenizer.hpp"
#include "kernels/gguf/llama_gguf_conversion.hpp"
#include "tests/model/tiny_checkpoint.hpp"

namespace dcomp::gguf {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using model::testing::TemporaryDirectory;
using testing::GgufBuilder;

template <typename Action>
std::string hostile_gguf_error(Action&& action) {
  try {
    action();
  } catch (const GgufError& error) {
    return error.what();
  }
  return "";
}

// A SentencePiece vocabulary: <unk>, <s>, </s>, then `pieces`, scored by position.
GgufBuilder hostile_sentencepiece(const std::vector<std::string>& pieces) {
  std::vector<std::string> tokens{"<unk>", "<s>", "</s>"};
  tokens.insert(tokens.end(), pieces.begin(), pieces.end());
  std::vector<float> scores;
  for (size_t i = 0; i < tokens.size(); ++i) scores.push_back(-static_cast<float>(i));
  GgufBuilder builder;
  builder.string("tokenizer.ggml.model", "llama").strings("tokenizer.ggml.tokens", tokens).f32s("tokenizer.ggml.scores",
                                                                                                 scores);
  return builder;
}

TEST(GgufHostileInput, A100KbTensorNameIsRefusedAsLlamaCppRefusesIt) {
  TemporaryDirectory dir("gguf_long_name");
  GgufBuilder().tensor("token_embd.weight", {4, 2}).tensor("blk." + std::string(100000, '1') + ".attn_q.weight", {4})
      .write(dir.path() / "long.gguf");
  const std::string error = hostile_gguf_error([&] { GgufFile::open(dir.path() / "long.gguf"); });
  EXPECT_THAT(error, HasSubstr("long.gguf"));
  EXPECT_THAT(error, HasSubstr("tensor 1's name is 100018 bytes long"));
  EXPECT_THAT(error, HasSubstr("GGML_MAX_NAME"));
  GgufBuilder().tensor(std::string(63, 'n'), {4}).write(dir.path() / "63.gguf");
  EXPECT_EQ(GgufFile::open(dir.path() / "63.gguf")->tensors().at(0).name, std::string(63, 'n'));
}

TEST(GgufHostileInput, BlockCountBeyondTheTensorsIsRefusedBeforeAllocation) {
  TemporaryDirectory dir("gguf_block_count");
  GgufBuilder()
      .string("general.architecture", "llama")
      .u32("llama.embedding_length", 8)
      .u32("llama.feed_forward_length", 16)
      .u32("llama.block_count", 1000000000)
      .u32("llama.attention.head_count", 2)
      .tensor("token_embd.weight", {8, 4})
      .tensor("output_norm.weight", {8})
      .write(dir.path() / "blocks.gguf");
  const auto file = GgufFile::open(dir.path() / "blocks.gguf");
  const std::string error = hostile_gguf_error([&] { convert_llama_gguf(*file, dir.path() / "out", {}); });
  EXPECT_THAT(error, HasSubstr("blocks.gguf"));
  EXPECT_THAT(error, HasSubstr("llama.block_count 1000000000 needs 9 tensors per block"));
  EXPECT_FALSE(fs::exists(dir.path() / "out" / "config.json"));
}

TEST(GgufHostileInput, OverlongTokenIsRefusedNamingItsIndex) {
  TemporaryDirectory dir("gguf_long_token");
  hostile_sentencepiece({"a", "b", std::string(1 << 20, 'a')}).write(dir.path() / "vocab.gguf");
  const auto file = GgufFile::open(dir.path() / "vocab.gguf");
  const auto start = std::chrono::steady_clock::now();
  const std::string error = hostile_gguf_error([&] { tokenizer_from_gguf(*file); });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_THAT(error, HasSubstr("vocab.gguf"));
  EXPECT_THAT(error, HasSubstr("tokenizer.ggml.tokens[5] is 1048576 bytes long"));
  EXPECT_THAT(error, HasSubstr(std::to_string(kMaxTokenBytes)));
}

TEST(GgufHostileInput, MergesOfLongTokensAreRebuiltInLinearTime) {
  // 2,000 pieces of 1,000 bytes, each the concatenation of two 500-byte pieces: one merge
  // each. Copying every prefix and suffix (the reference's way) would move 2e9 bytes.
  std::vector<std::string> pieces;
  for (int i = 0; i < 1000; ++i) pieces.push_back(std::string(499, 'a' + i % 26) + std::to_string(1000 + i) + "x");
  for (int i = 0; i < 2000; ++i) pieces.push_back(pieces[i % 1000] + pieces[(i + 1 + (i / 1000) * 500) % 1000]);
  TemporaryDirectory dir("gguf_linear_merges");
  hostile_sentencepiece(pieces).write(dir.path() / "vocab.gguf");
  const auto file = GgufFile::open(dir.path() / "vocab.gguf");
  const auto start = std::chrono::steady_clock::now();
  const auto tokenizer = tokenizer_from_gguf(*file);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  const auto& merges = tokenizer.tokenizer.at("model").at("merges");
  ASSERT_EQ(merges.size(), 2000u);
  // Scores fall with the id, so the first merge is the first long piece's.
  EXPECT_EQ(merges[0][0].get<std::string>(), pieces[0]);
  EXPECT_EQ(merges[0][1].get<std::string>(), pieces[1]);
}

TEST(GgufHostileInput, MergesThatGrowFasterThanTheVocabularyAreBounded) {
  // "a" .. "a" * 1000: the piece of n a's splits n - 1 ways, 333 million merge bytes from a
  // 500 KB vocabulary.
  std::vector<std::string> pieces;
  for (size_t n = 1; n <= kMaxTokenBytes; ++n) pieces.push_back(std::string(n, 'a'));
  TemporaryDirectory dir("gguf_merge_growth");
  hostile_sentencepiece(pieces).write(dir.path() / "vocab.gguf");
  const auto file = GgufFile::open(dir.path() / "vocab.gguf");
  const auto start = std::chrono::steady_clock::now();
  const std::string error = hostile_gguf_error([&] { tokenizer_from_gguf(*file); });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_THAT(error, HasSubstr("vocab.gguf"));
  EXPECT_THAT(error, HasSubstr("SentencePiece merges"));
  EXPECT_THAT(error, HasSubstr("256 MiB"));
}

}  // namespace
}  // namespace dcomp::gguf
