// SentencePiece-style Llama tokenizers from the shared data (stories260K,
// TinyStories-656K): ids against the plain reference BPE, the dummy-prefix space,
// BOS/EOS from the model folder, and exact round trips on the shared texts.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kernels/tokenizer/tokenizer.hpp"
#include "support/shared_data.hpp"
#include "tokenizer/reference_bpe.hpp"
#include "tokenizer/test_files.hpp"

namespace dcomp::testing {
namespace {

using tok::Tokenizer;

const char* const kTextFiles[] = {"text/tinystories_sample.txt", "text/tinystories_valid_sample.txt", "text/botchan.txt",
                                  "wikitext-2/wiki.test.raw"};

// The text with every maximal run of characters that the vocabulary lacks (as single
// characters, a space counting as "▁") replaced by "<unk>": what decode(encode(text))
// must give for a model with an unknown token, fuse_unk and no byte tokens.
std::string with_unknown_runs_replaced(const std::string& text, const Tokenizer& tokenizer) {
  std::string expected;
  bool in_unknown_run = false;
  for (size_t pos = 0; pos < text.size();) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    const std::string character = text.substr(pos, length);
    pos += length;
    if (tokenizer.token_to_id(character == " " ? "\xE2\x96\x81" : character)) {
      expected += character;
      in_unknown_run = false;
    } else {
      if (!in_unknown_run) expected += "<unk>";
      in_unknown_run = true;
    }
  }
  return expected;
}

class SentencePieceTokenizerTest : public ::testing::TestWithParam<const char*> {};

TEST_P(SentencePieceTokenizerTest, IdsEqualThePlainReferenceBpe) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const std::filesystem::path model_dir = data / GetParam();
  const Tokenizer tokenizer = Tokenizer::from_dir(model_dir);
  const ReferenceBpe reference(nlohmann::json::parse(read_text_file(model_dir / "tokenizer.json")));

  for (const char* file : kTextFiles) {
    const std::string whole = read_text_file(data / file);
    // The whole small sample, 3 KB of the others (the reference is quadratic).
    const std::string text = std::string(file) == "text/tinystories_sample.txt" ? whole : utf8_prefix(whole, 3000);
    const std::vector<int32_t> expected = reference.encode(text);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(tokenizer.encode(text), expected) << GetParam() << " on " << file;
  }
  // Short strings with leading, repeated and trailing spaces and characters outside the vocab.
  for (const std::string text : {"a", " ", "  hello  world ", "Once upon a time", "x\n\ny", "caf\xC3\xA9 \xE4\xB8\xAD!"}) {
    EXPECT_EQ(tokenizer.encode(text), reference.encode(text)) << GetParam() << " on \"" << text << "\"";
  }
  EXPECT_TRUE(tokenizer.encode("").empty());
}

TEST_P(SentencePieceTokenizerTest, DecodeInvertsEncodeOnTheSharedTexts) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const Tokenizer tokenizer = Tokenizer::from_dir(data / GetParam());
  const bool has_byte_fallback = tokenizer.token_to_id("<0x41>").has_value();
  for (const char* file : kTextFiles) {
    const std::string text = read_text_file(data / file);
    const auto start = std::chrono::steady_clock::now();
    const std::vector<int32_t> ids = tokenizer.encode(text);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "[ info ] " << GetParam() << " encodes " << file << " (" << text.size() << " bytes) into " << ids.size()
              << " ids in " << seconds << " s\n";
    EXPECT_LT(seconds, 30.0) << file << ": far slower than O(n log n) BPE should be";
    // With byte fallback every character survives; without it (TinyStories-656K has no
    // byte tokens) characters outside the vocabulary come back as "<unk>".
    const std::string expected = has_byte_fallback ? text : with_unknown_runs_replaced(text, tokenizer);
    EXPECT_TRUE(tokenizer.decode(ids) == expected) << GetParam() << " on " << file;
  }
}

INSTANTIATE_TEST_SUITE_P(SharedModels, SentencePieceTokenizerTest, ::testing::Values("stories260k", "tinystories-656k"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param) == "stories260k" ? std::string("stories260k")
                                                                           : std::string("tinystories656k");
                         });

TEST(SentencePieceTokenizer, Stories260kSampleStartsWithTheDummyPrefixSpace) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const Tokenizer tokenizer = Tokenizer::from_dir(data / "stories260k");
  const std::string text = read_text_file(data / "text/tinystories_sample.txt");
  ASSERT_EQ(text.rfind("Once upon a time there was a little", 0), 0u);
  const std::vector<int32_t> ids = tokenizer.encode(text);
  ASSERT_GT(ids.size(), 8u);
  // The first word carries the "▁" that the Prepend normalizer added in front of the text.
  EXPECT_EQ(tokenizer.id_to_token(ids[0]), "\xE2\x96\x81Once");
  EXPECT_EQ(tokenizer.decode({ids.begin(), ids.begin() + 8}), "Once upon a time there was a little");
  // The ids of the first words are the whole-word pieces of the vocabulary.
  for (const char* word : {"\xE2\x96\x81upon", "\xE2\x96\x81" "a", "\xE2\x96\x81time"}) {
    EXPECT_TRUE(tokenizer.token_to_id(word).has_value()) << word;
  }
  EXPECT_EQ(ids[1], *tokenizer.token_to_id("\xE2\x96\x81upon"));
  EXPECT_EQ(ids[3], *tokenizer.token_to_id("\xE2\x96\x81time"));
}

TEST(SentencePieceTokenizer, BosAndEosComeFromTokenizerConfig) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const Tokenizer stories = Tokenizer::from_dir(data / "stories260k");
  EXPECT_EQ(stories.bos_id(), std::optional<int32_t>(1));
  EXPECT_EQ(stories.eos_id(), std::optional<int32_t>(2));
  EXPECT_EQ(stories.id_to_token(1), "<s>");
  EXPECT_EQ(stories.vocab_size(), 512u);
  const Tokenizer tiny = Tokenizer::from_dir(data / "tinystories-656k");
  EXPECT_EQ(tiny.bos_id(), tiny.token_to_id("<|start_story|>"));
  EXPECT_EQ(tiny.eos_id(), tiny.token_to_id("<|end_story|>"));
  EXPECT_EQ(tiny.vocab_size(), 2048u);
}

TEST(SentencePieceTokenizer, SpecialTokensAreMatchedAndSkippedOnRequest) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const Tokenizer tokenizer = Tokenizer::from_dir(data / "stories260k");
  // "</s>" is an added token matched in the raw text; each side is normalized on its own
  // (so each gets its own "▁").
  const std::vector<int32_t> ids = tokenizer.encode("a</s>a");
  const std::vector<int32_t> a = tokenizer.encode("a");
  std::vector<int32_t> expected = a;
  expected.push_back(2);
  expected.insert(expected.end(), a.begin(), a.end());
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(tokenizer.decode(ids), "a</s> a");
  EXPECT_EQ(tokenizer.decode(ids, /*skip_special_tokens=*/true), "a a");
}

TEST(SentencePieceTokenizer, NormalizedAddedTokensMatchTheirNormalizedForm) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const Tokenizer tokenizer = Tokenizer::from_dir(data / "tinystories-656k");
  // TinyStories-656K marks its added tokens "normalized": they are looked for in the
  // normalized text in their normalized form, "▁<|end_story|>", so only after a space.
  const int32_t end_story = *tokenizer.token_to_id("<|end_story|>");
  std::vector<int32_t> expected = tokenizer.encode("a");
  expected.push_back(end_story);
  EXPECT_EQ(tokenizer.encode("a <|end_story|>"), expected);
  const std::vector<int32_t> glued = tokenizer.encode("a<|end_story|>");
  EXPECT_EQ(std::count(glued.begin(), glued.end(), end_story), 0);
  EXPECT_EQ(tokenizer.decode(glued), "a<|end_story|>");
}

}  // namespace
}  // namespace dcomp::testing
