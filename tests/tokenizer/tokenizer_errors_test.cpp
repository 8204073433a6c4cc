// Bad and unsupported tokenizer files give TokenizerError naming the file and the problem.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kernels/tokenizer/tokenizer.hpp"
#include "tokenizer/test_files.hpp"

namespace dcomp::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using tok::Tokenizer;
using tok::TokenizerError;

// A valid minimal tokenizer: characters a, b, c, "ab", and an added "<s>".
nlohmann::json minimal_tokenizer() {
  return nlohmann::json::parse(R"({
    "added_tokens": [{"id": 4, "content": "<s>", "special": true, "normalized": false}],
    "normalizer": null, "pre_tokenizer": null, "decoder": null,
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "<s>": 4}, "merges": ["a b"]}
  })");
}

// The message of the TokenizerError thrown by from_json, or "" when nothing is thrown.
std::string load_error(const nlohmann::json& tokenizer, const std::string& config = "{}") {
  try {
    Tokenizer::from_json(tokenizer.dump(), config, "broken/tokenizer.json");
  } catch (const TokenizerError& error) {
    return error.what();
  }
  return "";
}

TEST(TokenizerErrors, MinimalTokenizerLoads) {
  const Tokenizer tokenizer = Tokenizer::from_json(minimal_tokenizer().dump());
  EXPECT_EQ(tokenizer.encode("abc<s>"), std::vector<int32_t>({3, 2, 4}));
  EXPECT_EQ(tokenizer.decode({3, 2}), "ab c");  // no decoder: tokens joined with spaces
}

TEST(TokenizerErrors, MalformedJson) {
  try {
    Tokenizer::from_json("{\"model\": {", "{}", "broken/tokenizer.json");
    FAIL() << "no error";
  } catch (const TokenizerError& error) {
    EXPECT_THAT(error.what(), AllOf(HasSubstr("broken/tokenizer.json"), HasSubstr("invalid JSON")));
  }
  EXPECT_THROW(Tokenizer::from_json(minimal_tokenizer().dump(), "{not json"), TokenizerError);
  EXPECT_THAT(load_error(nlohmann::json::array()), HasSubstr("expected a JSON object"));
}

TEST(TokenizerErrors, UnsupportedComponentsAreNamed) {
  nlohmann::json unigram = minimal_tokenizer();
  unigram["model"]["type"] = "Unigram";
  EXPECT_THAT(load_error(unigram), AllOf(HasSubstr("broken/tokenizer.json"), HasSubstr("model"), HasSubstr("Unigram")));

  nlohmann::json nfc = minimal_tokenizer();
  nfc["normalizer"] = {{"type", "NFC"}};
  EXPECT_THAT(load_error(nfc), AllOf(HasSubstr("broken/tokenizer.json"), HasSubstr("normalizer 'NFC'")));

  nlohmann::json punctuation = minimal_tokenizer();
  punctuation["pre_tokenizer"] = {{"type", "Punctuation"}, {"behavior", "Isolated"}};
  EXPECT_THAT(load_error(punctuation), HasSubstr("pre_tokenizer 'Punctuation'"));

  nlohmann::json regex = minimal_tokenizer();
  regex["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "\\s+"}}}, {"behavior", "Isolated"}};
  EXPECT_THAT(load_error(regex), AllOf(HasSubstr("pre_tokenizer 'Split'"), HasSubstr("unsupported split regex")));

  nlohmann::json wordpiece_decoder = minimal_tokenizer();
  wordpiece_decoder["decoder"] = {{"type", "WordPiece"}, {"prefix", "##"}};
  EXPECT_THAT(load_error(wordpiece_decoder), HasSubstr("decoder 'WordPiece'"));
}

TEST(TokenizerErrors, InconsistentModel) {
  nlohmann::json missing_merge_token = minimal_tokenizer();
  missing_merge_token["model"]["merges"] = {"a c"};  // "ac" is not in the vocab
  EXPECT_THAT(load_error(missing_merge_token), AllOf(HasSubstr("merges[0]"), HasSubstr("\"ac\"")));

  nlohmann::json bad_merge = minimal_tokenizer();
  bad_merge["model"]["merges"] = {"ab"};
  EXPECT_THAT(load_error(bad_merge), HasSubstr("not two tokens"));

  nlohmann::json no_vocab = minimal_tokenizer();
  no_vocab["model"].erase("vocab");
  EXPECT_THAT(load_error(no_vocab), HasSubstr("missing field \"vocab\""));

  nlohmann::json bad_unk = minimal_tokenizer();
  bad_unk["model"]["unk_token"] = "<unk>";
  EXPECT_THAT(load_error(bad_unk), HasSubstr("unk_token \"<unk>\" is not in the vocab"));

  EXPECT_THAT(load_error(minimal_tokenizer(), R"({"bos_token": "<bos>"})"),
              AllOf(HasSubstr("bos_token"), HasSubstr("\"<bos>\" is not in the vocabulary")));
}

TEST(TokenizerErrors, DecodeOfAnUnknownIdAndEncodeOfInvalidUtf8) {
  const Tokenizer tokenizer = Tokenizer::from_json(minimal_tokenizer().dump(), "{}", "mini.json");
  try {
    tokenizer.decode({0, 99});
    FAIL() << "no error";
  } catch (const TokenizerError& error) {
    EXPECT_THAT(error.what(), AllOf(HasSubstr("mini.json"), HasSubstr("99")));
  }
  EXPECT_THROW(tokenizer.decode({-1}), TokenizerError);
  EXPECT_THROW(tokenizer.id_to_token(5), TokenizerError);
  EXPECT_THROW(tokenizer.encode("a\xC0\x80"), TokenizerError);
}

TEST(TokenizerErrors, FromDirNamesTheMissingFile) {
  const TempDir dir;
  try {
    Tokenizer::from_dir(dir.path());
    FAIL() << "no error";
  } catch (const TokenizerError& error) {
    EXPECT_THAT(error.what(), AllOf(HasSubstr((dir.path() / "tokenizer.json").string()), HasSubstr("not found")));
  }
  dir.write("tokenizer.json", minimal_tokenizer().dump());
  dir.write("config.json", R"({"bos_token_id": 42})");
  try {
    Tokenizer::from_dir(dir.path());
    FAIL() << "no error";
  } catch (const TokenizerError& error) {
    EXPECT_THAT(error.what(), AllOf(HasSubstr("config.json"), HasSubstr("bos_token_id")));
  }
}

TEST(TokenizerConfig, BosAndEosFallBackToConfigJson) {
  const TempDir dir;
  dir.write("tokenizer.json", minimal_tokenizer().dump());
  dir.write("config.json", R"({"bos_token_id": 4, "eos_token_id": [2, 3]})");
  const Tokenizer from_model_config = Tokenizer::from_dir(dir.path());
  EXPECT_EQ(from_model_config.bos_id(), std::optional<int32_t>(4));
  EXPECT_EQ(from_model_config.eos_id(), std::optional<int32_t>(2));  // the first of a list

  // tokenizer_config.json wins, in either the string or the {"content": ...} form.
  dir.write("tokenizer_config.json", R"({"bos_token": {"content": "ab"}, "eos_token": "c"})");
  const Tokenizer from_tokenizer_config = Tokenizer::from_dir(dir.path());
  EXPECT_EQ(from_tokenizer_config.bos_id(), std::optional<int32_t>(3));
  EXPECT_EQ(from_tokenizer_config.eos_id(), std::optional<int32_t>(2));

  const Tokenizer none = Tokenizer::from_json(minimal_tokenizer().dump(), R"({"bos_token": null})");
  EXPECT_FALSE(none.bos_id().has_value());
  EXPECT_FALSE(none.eos_id().has_value());
}

}  // namespace
}  // namespace dcomp::testing
