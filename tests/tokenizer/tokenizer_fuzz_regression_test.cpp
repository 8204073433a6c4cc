// tokenizer.json files found by fuzzing (tests/fuzz/regressions/tokenizer) are rejected
// with a TokenizerError that names the file, the component and the problem, instead of
// leaking a JSON library exception or growing a text until memory runs out. A
// regression file holds tokenizer.json, then optionally a NUL byte and
// tokenizer_config.json, then a NUL byte and a text to encode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/tokenizer/tokenizer.hpp"

namespace dcomp::tok {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct RegressionInput {
  std::string tokenizer_json;
  std::string tokenizer_config = "{}";
  std::string text;
};

RegressionInput regression(const std::string& name) {
  std::ifstream in(std::filesystem::path(DCOMP_SOURCE_DIR) / "tests/fuzz/regressions/tokenizer" / name, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  std::string rest = content.str();
  RegressionInput input;
  std::string* parts[] = {&input.tokenizer_json, &input.tokenizer_config, &input.text};
  for (std::string* part : parts) {
    const size_t separator = rest.find('\0');
    *part = rest.substr(0, separator);
    if (separator == std::string::npos) break;
    rest.erase(0, separator + 1);
  }
  return input;
}

Tokenizer load(const RegressionInput& input) {
  return Tokenizer::from_json(input.tokenizer_json, input.tokenizer_config, "fuzz/tokenizer.json");
}

// The message of the TokenizerError that `action` throws, or "" when it throws none.
template <class Action>
std::string error_of(Action&& action) {
  try {
    action();
  } catch (const TokenizerError& error) {
    return error.what();
  }
  return "";
}

// A number too large for a double is a JSON error of the file, not a bare nlohmann
// out_of_range exception.
TEST(TokenizerFuzzRegression, NumberTooLarge) {
  const std::string message = error_of([] { load(regression("number_too_large")); });
  EXPECT_THAT(message, StartsWith("fuzz/tokenizer.json: invalid JSON: "));
  EXPECT_THAT(message, HasSubstr("number overflow"));
}

// 32 ByteLevel pre-tokenizer steps would double a non-ASCII text 32 times.
TEST(TokenizerFuzzRegression, ByteLevelStepsMultiplyTheText) {
  const RegressionInput input = regression("byte_level_steps_multiply");
  const Tokenizer tokenizer = load(input);
  EXPECT_THAT(error_of([&] { tokenizer.encode(input.text); }),
              StartsWith("fuzz/tokenizer.json: pre_tokenizer: grows a text of 5 bytes past 4176 bytes (16 times its "
                         "size plus 4096): its steps multiply the text"));
}

// 32 Replace "a" -> "aa" normalizer steps, applied to the added token "a" while loading.
TEST(TokenizerFuzzRegression, NormalizerReplaceStepsMultiplyTheText) {
  EXPECT_THAT(error_of([] { load(regression("normalizer_replace_steps_multiply")); }),
              StartsWith("fuzz/tokenizer.json: normalizer: grows a text of 1 bytes past 4112 bytes"));
}

// 32 Replace "a" -> "aa" decoder steps.
TEST(TokenizerFuzzRegression, DecoderReplaceStepsMultiplyTheText) {
  const RegressionInput input = regression("decoder_replace_steps_multiply");
  const Tokenizer tokenizer = load(input);
  const std::vector<int32_t> ids = tokenizer.encode(input.text);
  EXPECT_EQ(ids, std::vector<int32_t>{0});
  EXPECT_THAT(error_of([&] { tokenizer.decode(ids); }),
              StartsWith("fuzz/tokenizer.json: decoder: grows a text of 1 bytes past 4112 bytes"));
}

}  // namespace
}  // namespace dcomp::tok
