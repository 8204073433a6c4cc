// tokenizer.json, tokenizer_config.json and JSON Lines datasets come from files dcomp
// does not control: each is parsed within a stated nesting depth, and a JSON Lines row
// within a stated length checked while the file is read, naming the file and line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kernels/data/dataset.hpp"
#include "kernels/data/dataset_rows.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "tokenizer/test_files.hpp"

namespace dcomp::testing {
namespace {

using ::testing::HasSubstr;

std::string deep_json(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(UntrustedJson, DeepTokenizerJsonIsRefusedNamingTheLimit) {
  TempDir dir;
  dir.write("tokenizer.json", "{\"model\": " + deep_json(100000) + "}");
  try {
    tok::Tokenizer::from_dir(dir.path());
    ADD_FAILURE() << "a 100,000-deep tokenizer.json was accepted";
  } catch (const tok::TokenizerError& error) {
    EXPECT_THAT(error.what(), HasSubstr("tokenizer.json"));
    EXPECT_THAT(error.what(), HasSubstr("more than 64 levels deep"));
  }
}

TEST(UntrustedJson, DeepTokenizerConfigIsRefused) {
  EXPECT_THROW(tok::Tokenizer::from_json("{}", "{\"x\": " + deep_json(100000) + "}", "t"), tok::TokenizerError);
}

TEST(UntrustedJson, DeepJsonLinesRowIsRefusedNamingTheLine) {
  const std::string content = "{\"text\": \"fine\"}\n{\"text\": " + deep_json(100000) + "}\n";
  try {
    data::parse_json_lines(content, "rows.jsonl", 100);
    ADD_FAILURE() << "a 100,000-deep row was accepted";
  } catch (const data::DatasetError& error) {
    EXPECT_THAT(error.what(), HasSubstr("rows.jsonl: line 2"));
    EXPECT_THAT(error.what(), HasSubstr("64 levels"));
  }
}

TEST(UntrustedJson, OverlongJsonLinesRowIsRefusedWhileReading) {
  TempDir dir;
  const std::string row = "{\"text\": \"" + std::string(data::kMaxJsonLineBytes, 'a') + "\"}";
  const auto file = dir.write("rows.jsonl", "{\"text\": \"short\"}\n\n" + row + "\n");
  try {
    data::read_dataset_file(file);
    ADD_FAILURE() << "a row over the limit was accepted";
  } catch (const data::DatasetError& error) {
    EXPECT_THAT(error.what(), HasSubstr("rows.jsonl: line 3"));
    EXPECT_THAT(error.what(), HasSubstr("64 MiB"));
  }
  // A plain text file has no rows: one long line is its content.
  const auto text = dir.write("long.txt", std::string(data::kMaxJsonLineBytes + 10, 'b'));
  EXPECT_EQ(data::read_dataset_file(text).size(), data::kMaxJsonLineBytes + 10);
}

TEST(UntrustedJson, JsonLinesRowsParseAsBefore) {
  const auto rows = data::parse_json_lines("{\"text\": \"a b\"}\r\n\n  \n{\"input_ids\": [1, 2]}", "r.jsonl", 10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].text, "a b");
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_EQ(rows[1].line, 4u);
  EXPECT_EQ(rows[1].input_ids, (std::vector<int32_t>{1, 2}));
}

}  // namespace
}  // namespace dcomp::testing
