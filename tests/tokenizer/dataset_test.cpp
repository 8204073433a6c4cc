// Calibration samples and evaluation token streams from temporary dataset files,
// with a character-level tokenizer so that expected ids follow from the text by hand:
// <s> = 0, </s> = 1, 'a'..'z' = 2..27, ' ' = 28, '\n' = 29.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kernels/data/dataset.hpp"
#include "kernels/data/shuffle.hpp"
#include "kernels/data/text_blocks.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "tokenizer/test_files.hpp"

namespace dcomp::testing {
namespace {

using data::DatasetError;
using data::SampleOptions;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Ids = std::vector<int32_t>;
using Samples = std::vector<Ids>;

constexpr int32_t kBos = 0;

tok::Tokenizer character_tokenizer(bool with_bos = true) {
  nlohmann::json vocab = {{"<s>", 0}, {"</s>", 1}, {" ", 28}, {"\n", 29}};
  for (char c = 'a'; c <= 'z'; ++c) vocab[std::string(1, c)] = 2 + (c - 'a');
  const nlohmann::json tokenizer = {
      {"added_tokens",
       {{{"id", 0}, {"content", "<s>"}, {"special", true}, {"normalized", false}},
        {{"id", 1}, {"content", "</s>"}, {"special", true}, {"normalized", false}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer", nullptr},
      {"decoder", {{"type", "Fuse"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
  return tok::Tokenizer::from_json(tokenizer.dump(), with_bos ? R"({"bos_token": "<s>", "eos_token": "</s>"})" : "{}");
}

// Ids of lowercase text under character_tokenizer.
Ids ids_of(const std::string& text) {
  Ids ids;
  for (const char c : text) ids.push_back(c == ' ' ? 28 : c == '\n' ? 29 : 2 + (c - 'a'));
  return ids;
}

Ids with_bos(const std::string& text) {
  Ids ids = ids_of(text);
  ids.insert(ids.begin(), kBos);
  return ids;
}

Samples sorted(Samples samples) {
  std::sort(samples.begin(), samples.end());
  return samples;
}

SampleOptions options(size_t num_samples, size_t max_seq_length, uint64_t seed = 42, bool add_bos = true) {
  SampleOptions result;
  result.num_samples = num_samples;
  result.max_seq_length = max_seq_length;
  result.seed = seed;
  result.add_bos = add_bos;
  return result;
}

std::string dataset_error(const std::filesystem::path& file, const SampleOptions& opts = SampleOptions()) {
  try {
    data::load_samples(file, character_tokenizer(), opts);
  } catch (const DatasetError& error) {
    return error.what();
  }
  return "";
}

TEST(Dataset, PlainTextIsCutIntoConsecutiveWindows) {
  const TempDir dir;
  const auto file = dir.write("corpus.txt", "abcdefghij");
  // BOS + 3 text tokens per window; the 1-token tail "j" is dropped.
  EXPECT_EQ(sorted(data::load_samples(file, character_tokenizer(), options(100, 4))),
            sorted({with_bos("abc"), with_bos("def"), with_bos("ghi")}));
  // Without BOS, 4 text tokens per window; the tail "ij" is dropped.
  EXPECT_EQ(sorted(data::load_samples(file, character_tokenizer(), options(100, 4, 42, false))),
            sorted({ids_of("abcd"), ids_of("efgh")}));
  // A text shorter than one window is the only sample.
  EXPECT_EQ(data::load_samples(file, character_tokenizer(), options(100, 64)), Samples({with_bos("abcdefghij")}));
}

// Lowercase words of 1 to 7 letters from a fixed linear congruential generator.
std::string pseudo_random_words(size_t bytes, uint64_t state) {
  std::string text;
  while (text.size() < bytes) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const size_t length = 1 + (state >> 60) % 7;
    for (size_t i = 0; i < length; ++i) text.push_back(static_cast<char>('a' + (state >> (8 + 5 * i)) % 26));
    text.push_back(' ');
  }
  text.resize(bytes);
  return text;
}

TEST(Dataset, LongTextIsSampledFromTheBlocksItDrawsOnly) {
  constexpr size_t kBlocks = 8;
  const uint64_t block = data::calibration_block_bytes(4);
  std::string text = pseudo_random_words(kBlocks * block, 99);
  const TempDir dir;
  const auto file = dir.write("long.txt", text);
  // Every sample is BOS + 3 consecutive characters of the text, and no two are the same window.
  const Samples samples = data::load_samples(file, character_tokenizer(), options(16, 4));
  ASSERT_EQ(samples.size(), 16u);
  for (const Ids& sample : samples) {
    ASSERT_EQ(sample.size(), 4u);
    EXPECT_EQ(sample[0], kBos);
    std::string window;
    for (size_t i = 1; i < 4; ++i) window.push_back(sample[i] == 28 ? ' ' : static_cast<char>('a' + sample[i] - 2));
    EXPECT_NE(text.find(window), std::string::npos) << window;
  }
  EXPECT_EQ(samples, data::load_samples(file, character_tokenizer(), options(16, 4)));
  EXPECT_NE(samples, data::load_samples(file, character_tokenizer(), options(16, 4, 7)));

  // A byte that is not UTF-8 in the middle of the block drawn second: one sample draws on
  // the first block only and never reads it; two samples tokenize that block and fail.
  const std::vector<size_t> block_order = data::shuffled_order(kBlocks, 42);
  text[block_order[1] * block + block / 2] = '\xE9';
  const auto corrupt = dir.write("corrupt.txt", text);
  EXPECT_EQ(data::load_samples(corrupt, character_tokenizer(), options(1, 4)).size(), 1u);
  EXPECT_THAT(dataset_error(corrupt, options(2, 4)), AllOf(HasSubstr("corrupt.txt"), HasSubstr("UTF-8")));
}

TEST(Dataset, LongJsonTextRowIsTruncatedFromItsPrefix) {
  const TempDir dir;
  const std::string text = pseudo_random_words(size_t{1} << 20, 5);  // 16 of the prefixes tokenized for 8 tokens
  const auto file = dir.write("long.jsonl", nlohmann::json{{"text", text}}.dump() + "\n");
  EXPECT_EQ(data::load_samples(file, character_tokenizer(), options(1, 8)), Samples({with_bos(text.substr(0, 7))}));
}

TEST(Dataset, JsonLinesTextAndInputIdsRows) {
  const TempDir dir;
  const auto file = dir.write("rows.jsonl",
                              "{\"text\": \"hello world\"}\n"
                              "\n"
                              "{\"text\": \"\"}\n"
                              "{\"input_ids\": [5, 6, 7, 8, 9, 10]}\n"
                              "{\"input_ids\": []}\n"
                              "{\"text\": \"hi\", \"source\": \"extra fields are ignored\"}\n");
  // Text rows: BOS + tokens, truncated to 5; input_ids as given, truncated; empty rows skipped.
  EXPECT_EQ(sorted(data::load_samples(file, character_tokenizer(), options(100, 5))),
            sorted({with_bos("hell"), Ids({5, 6, 7, 8, 9}), with_bos("hi")}));
  // "input_ids" rows need no BOS token, even with add_bos.
  const auto ids_only = dir.write("ids.jsonl", "{\"input_ids\": [3, 4]}\n");
  EXPECT_EQ(data::load_samples(ids_only, character_tokenizer(/*with_bos=*/false), options(100, 5)), Samples({Ids({3, 4})}));
}

TEST(Dataset, ShuffleIsDeterministicPerSeedAndTakesAPrefix) {
  const TempDir dir;
  std::string rows;
  for (int i = 0; i < 30; ++i) {
    const std::string text(1 + i % 5, static_cast<char>('a' + i % 26));
    rows += nlohmann::json{{"text", text + " " + std::string(i / 26 + 1, 'z')}}.dump() + "\n";  // 30 distinct rows
  }
  const auto file = dir.write("rows.jsonl", rows);
  const auto tokenizer = character_tokenizer();
  const Samples seed1 = data::load_samples(file, tokenizer, options(100, 64, 1));
  const Samples seed1_again = data::load_samples(file, tokenizer, options(100, 64, 1));
  const Samples seed2 = data::load_samples(file, tokenizer, options(100, 64, 2));
  ASSERT_EQ(seed1.size(), 30u);
  EXPECT_EQ(seed1, seed1_again);
  EXPECT_NE(seed1, seed2);
  EXPECT_EQ(sorted(seed1), sorted(seed2));  // the same rows, in another order
  // Fewer samples: the first ones of the same shuffle.
  const Samples first7 = data::load_samples(file, tokenizer, options(7, 64, 1));
  EXPECT_EQ(first7, Samples(seed1.begin(), seed1.begin() + 7));
}

TEST(Dataset, ShuffledOrderIsAPermutationAndDrawsAreUniform) {
  for (const size_t count : {0, 1, 2, 17}) {
    std::vector<size_t> order = data::shuffled_order(count, 7);
    std::sort(order.begin(), order.end());
    for (size_t i = 0; i < count; ++i) EXPECT_EQ(order[i], i);
  }
  std::mt19937_64 engine(123);
  std::map<uint64_t, int> counts;
  for (int i = 0; i < 30000; ++i) ++counts[data::uniform_below(engine, 3)];
  ASSERT_EQ(counts.size(), 3u);
  for (const auto& [value, count] : counts) EXPECT_NEAR(count, 10000, 400) << value;
}

TEST(Dataset, ErrorsNameTheFileAndLine) {
  const TempDir dir;
  EXPECT_THAT(dataset_error(dir.write("empty.txt", "")), AllOf(HasSubstr("empty.txt"), HasSubstr("empty")));
  EXPECT_THAT(dataset_error(dir.path() / "absent.txt"), AllOf(HasSubstr("absent.txt"), HasSubstr("cannot open")));
  EXPECT_THAT(dataset_error(dir.write("blank.jsonl", "{\"text\": \"\"}\n{\"input_ids\": []}\n")),
              AllOf(HasSubstr("blank.jsonl"), HasSubstr("no usable rows")));
  EXPECT_THAT(dataset_error(dir.write("bad.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"text\": \"c\"\n")),
              AllOf(HasSubstr("bad.jsonl: line 3"), HasSubstr("invalid JSON")));
  EXPECT_THAT(dataset_error(dir.write("nofield.jsonl", "{\"text\": \"a\"}\n{\"content\": \"b\"}\n")),
              AllOf(HasSubstr("nofield.jsonl: line 2"), HasSubstr("neither \"text\" nor \"input_ids\"")));
  EXPECT_THAT(dataset_error(dir.write("array.jsonl", "[1, 2]\n")), HasSubstr("array.jsonl: line 1"));
  EXPECT_THAT(dataset_error(dir.write("range.jsonl", "{\"input_ids\": [1, 30]}\n")),
              AllOf(HasSubstr("range.jsonl: line 1"), HasSubstr("30")));
  EXPECT_THAT(dataset_error(dir.write("latin1.txt", "caf\xE9")), AllOf(HasSubstr("latin1.txt"), HasSubstr("UTF-8")));
  EXPECT_THAT(dataset_error(dir.write("short.txt", "abc"), options(1, 1)), HasSubstr("no room"));

  const auto file = dir.write("ok.txt", "abc");
  try {
    data::load_samples(file, character_tokenizer(/*with_bos=*/false), SampleOptions());
    FAIL() << "no error";
  } catch (const DatasetError& error) {
    EXPECT_THAT(error.what(), AllOf(HasSubstr("ok.txt"), HasSubstr("no BOS")));
  }
}

TEST(Dataset, TokenStreamKeepsTheWholeFileInOrder) {
  const TempDir dir;
  const auto tokenizer = character_tokenizer();
  EXPECT_EQ(data::load_token_stream(dir.write("plain.txt", "ab c\n"), tokenizer), ids_of("ab c\n"));
  EXPECT_EQ(data::load_token_stream(dir.write("text.jsonl", "{\"text\": \"ab\"}\n{\"text\": \"\"}\n{\"text\": \"c\"}\n"), tokenizer),
            ids_of("ab\n\nc"));
  EXPECT_EQ(data::load_token_stream(dir.write("ids.jsonl", "{\"input_ids\": [3, 4]}\n{\"input_ids\": [5]}\n"), tokenizer),
            Ids({3, 4, 5}));
  EXPECT_THROW(data::load_token_stream(dir.write("mixed.jsonl", "{\"input_ids\": [3]}\n{\"text\": \"a\"}\n"), tokenizer),
               DatasetError);
  EXPECT_THROW(data::load_token_stream(dir.write("none.txt", ""), tokenizer), DatasetError);
}

}  // namespace
}  // namespace dcomp::testing
