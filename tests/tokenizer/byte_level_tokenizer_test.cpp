// Byte-level BPE (GPT-2 / Llama-3 style) on a tiny hand-made vocabulary: every
// expected id list below was worked out by hand from the merge table.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kernels/tokenizer/tokenizer.hpp"

namespace dcomp::testing {
namespace {

using tok::Tokenizer;
using Ids = std::vector<int32_t>;

// GPT-2's byte -> character table, written out here independently of the library:
// printable bytes stand for themselves, the other 68 take U+0100, U+0101, ... in order.
std::vector<std::string> gpt2_byte_characters() {
  std::vector<std::string> characters(256);
  unsigned next = 0x100;
  for (unsigned byte = 0; byte < 256; ++byte) {
    const bool printable = (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE);
    const unsigned cp = printable ? byte : next++;
    std::string utf8;
    if (cp < 0x80) {
      utf8 += static_cast<char>(cp);
    } else {
      utf8 += static_cast<char>(0xC0 | (cp >> 6));
      utf8 += static_cast<char>(0x80 | (cp & 0x3F));
    }
    characters[byte] = utf8;
  }
  return characters;
}

// Vocabulary: byte b has id b; merge rank r creates id 256 + r; "<|endoftext|>" is 268;
// "hello" (269) is in the vocab but no merge path leads to it.
const char* const kMerges[][2] = {
    {"h", "e"},           // 0 -> 256 "he"
    {"\xC4\xA0", "t"},    // 1 -> 257 "Ġt"
    {"\xC4\xA0t", "he"},  // 2 -> 258 "Ġthe"
    {"l", "l"},           // 3 -> 259 "ll"
    {"'", "s"},           // 4 -> 260 "'s"
    {"1", "2"},           // 5 -> 261 "12"
    {"12", "3"},          // 6 -> 262 "123"
    {"\xC3\x83", "\xC2\xA9"},        // 7 -> 263 "Ã©" (the bytes of "é")
    {"h", "\xC3\x83\xC2\xA9"},       // 8 -> 264 "hÃ©"
    {"e", "l"},           // 9 -> 265 "el"
    {"!", "!"},           // 10 -> 266 "!!"
    {"\xC4\xA0", "\xC4\xA0"},        // 11 -> 267 "ĠĠ"
};
constexpr int32_t kEndOfText = 268;
constexpr int32_t kHello = 269;

// kDigits*: the Digits pre-tokenizer (each digit alone, or runs of digits) before ByteLevel
// with the GPT-2 regex, as SmolLM2's tokenizer.json has it.
enum class Split { kGpt2ByteLevel, kLlama3Regex, kDigitsAloneThenGpt2, kDigitRunsThenGpt2 };

std::string tiny_byte_level_json(Split split, bool ignore_merges = false, bool add_prefix_space = false,
                                 nlohmann::json extra_added_tokens = nlohmann::json::array()) {
  const std::vector<std::string> characters = gpt2_byte_characters();
  nlohmann::json vocab = nlohmann::json::object();
  for (int byte = 0; byte < 256; ++byte) vocab[characters[byte]] = byte;
  nlohmann::json merges = nlohmann::json::array();
  int32_t next_id = 256;
  for (const auto& merge : kMerges) {
    vocab[std::string(merge[0]) + merge[1]] = next_id++;
    merges.push_back(std::string(merge[0]) + " " + merge[1]);
  }
  vocab["hello"] = kHello;

  nlohmann::json added = nlohmann::json::array();
  added.push_back({{"id", kEndOfText}, {"content", "<|endoftext|>"}, {"single_word", false}, {"lstrip", false},
                   {"rstrip", false}, {"normalized", false}, {"special", true}});
  for (const auto& token : extra_added_tokens) added.push_back(token);

  nlohmann::json pre_tokenizer;
  if (split == Split::kGpt2ByteLevel) {
    pre_tokenizer = {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", true}, {"use_regex", true}};
  } else if (split == Split::kDigitsAloneThenGpt2 || split == Split::kDigitRunsThenGpt2) {
    pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers",
                      {{{"type", "Digits"}, {"individual_digits", split == Split::kDigitsAloneThenGpt2}},
                       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}}}};
  } else {
    const std::string regex =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers",
                      {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}},
                       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
  }
  const nlohmann::json tokenizer = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", pre_tokenizer},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", ignore_merges},
        {"vocab", vocab}, {"merges", merges}}}};
  return tokenizer.dump();
}

struct Case {
  std::string text;
  Ids ids;
};

TEST(ByteLevelTokenizer, Gpt2PatternGivesTheHandWorkedIds) {
  const Tokenizer tokenizer = Tokenizer::from_json(tiny_byte_level_json(Split::kGpt2ByteLevel));
  const std::vector<Case> cases = {
      // h e l l o: "he" (rank 0) first, then "ll" (3); "el" (9) never gets a chance.
      {"hello", {256, 259, 111}},
      // e l l: "ll" (3) beats the leftmost pair "el" (9).
      {"ell", {101, 259}},
      // Ġ t h e -> Ġ t he -> Ġt he -> Ġthe.
      {" the", {258}},
      // Contraction: "the" | " cat" | "'s".
      {"the cat's", {116, 256, 32, 99, 97, 116, 260}},
      // "they" | "'re" ('re is split off, its bytes have no merges).
      {"they're", {116, 256, 121, 39, 114, 101}},
      // Digits: "2123" -> 2 12 3 -> 2 123; " 12345" -> Ġ 123 4 5.
      {"2123 12345", {50, 262, 32, 262, 52, 53}},
      // Punctuation run "!!!": the leftmost of the two equal-rank pairs merges first.
      {"hi!!! ok", {104, 105, 266, 33, 32, 111, 107}},
      // Three spaces: "a" | "  " (the run minus the space that joins "b") | " b".
      {"a   b", {97, 267, 32, 98}},
      // "é" is C3 A9 -> "Ã©" (7), then "hÃ©" (8); "ll" (3) merged before both.
      {"h\xC3\xA9llo", {264, 259, 111}},
      // A CJK character is a letter: " 中" is one pre-token; its bytes E4 B8 AD stay single.
      {"x \xE4\xB8\xAD", {120, 32, 0xE4, 0xB8, 0xAD}},
      // Newline byte 0x0A.
      {"a\nb", {97, 10, 98}},
      // The special token is matched before any splitting.
      {"hi<|endoftext|>the", {104, 105, kEndOfText, 116, 256}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(tokenizer.encode(c.text), c.ids) << "\"" << c.text << "\"";
    EXPECT_EQ(tokenizer.decode(c.ids), c.text) << "\"" << c.text << "\"";
  }
  EXPECT_EQ(tokenizer.decode({104, 105, kEndOfText}, /*skip_special_tokens=*/true), "hi");
  EXPECT_EQ(tokenizer.vocab_size(), 270u);
  EXPECT_EQ(tokenizer.token_to_id("<|endoftext|>"), std::optional<int32_t>(kEndOfText));
  EXPECT_FALSE(tokenizer.bos_id().has_value());
}

TEST(ByteLevelTokenizer, DecodeReplacesIllFormedBytesWithReplacementCharacter) {
  const Tokenizer tokenizer = Tokenizer::from_json(tiny_byte_level_json(Split::kGpt2ByteLevel));
  // 0xE4 0xB8 starts a 3-byte sequence that never ends: one U+FFFD, then "a".
  EXPECT_EQ(tokenizer.decode({0xE4, 0xB8, 97}), "\xEF\xBF\xBD" "a");
}

TEST(ByteLevelTokenizer, AddPrefixSpaceTreatsTheFirstWordLikeTheOthers) {
  const Tokenizer tokenizer = Tokenizer::from_json(tiny_byte_level_json(Split::kGpt2ByteLevel, false, /*add_prefix_space=*/true));
  EXPECT_EQ(tokenizer.encode("the"), Ids({258}));
  EXPECT_EQ(tokenizer.encode(" the"), Ids({258}));  // already starts with a space: nothing added
}

TEST(ByteLevelTokenizer, Llama3PatternSplitsDigitsInThrees) {
  const Tokenizer tokenizer = Tokenizer::from_json(tiny_byte_level_json(Split::kLlama3Regex));
  // "212" | "3": 2 1 2 -> 2 12; the GPT-2 pattern gave 2 123 for the same text.
  EXPECT_EQ(tokenizer.encode("2123"), Ids({50, 261, 51}));
  // " the" is still one pre-token ([^\r\n\p{L}\p{N}]?\p{L}+).
  EXPECT_EQ(tokenizer.encode("the the"), Ids({116, 256, 258}));
  EXPECT_EQ(tokenizer.decode({50, 261, 51}), "2123");
}

TEST(ByteLevelTokenizer, DigitsPreTokenizerIsolatesEachDigitOrEachRun) {
  const Tokenizer alone = Tokenizer::from_json(tiny_byte_level_json(Split::kDigitsAloneThenGpt2));
  // Every digit its own piece, so "12" (rank 5) can never merge: 2 1 2 3 | Ġ | 1 2 3 4 5.
  EXPECT_EQ(alone.encode("2123 12345"), Ids({50, 49, 50, 51, 32, 49, 50, 51, 52, 53}));
  EXPECT_EQ(alone.encode("x2y the"), Ids({120, 50, 121, 258}));
  // A number outside ASCII (U+0663 ARABIC-INDIC DIGIT THREE, D9 A3) is a digit too: x | ٣ | y.
  EXPECT_EQ(alone.encode("x\xD9\xA3y"), Ids({120, 0xD9, 0xA3, 121}));
  EXPECT_EQ(alone.decode({50, 49, 50, 51, 32, 49}), "2123 1");
  const Tokenizer runs = Tokenizer::from_json(tiny_byte_level_json(Split::kDigitRunsThenGpt2));
  // Runs stay whole: "2123" -> 2 12 3 -> 2 123, then Ġ, then 123 4 5.
  EXPECT_EQ(runs.encode("2123 12345"), Ids({50, 262, 32, 262, 52, 53}));
}

TEST(ByteLevelTokenizer, IgnoreMergesTakesWholeWordsFromTheVocab) {
  const Tokenizer with_merges = Tokenizer::from_json(tiny_byte_level_json(Split::kLlama3Regex));
  const Tokenizer ignoring = Tokenizer::from_json(tiny_byte_level_json(Split::kLlama3Regex, /*ignore_merges=*/true));
  EXPECT_EQ(with_merges.encode("hello"), Ids({256, 259, 111}));
  EXPECT_EQ(ignoring.encode("hello"), Ids({kHello}));
  EXPECT_EQ(ignoring.encode("hello hello"), Ids({kHello, 32, 256, 259, 111}));  // " hello" is not in the vocab
}

TEST(ByteLevelTokenizer, AddedTokenStripAndSingleWordOptions) {
  const nlohmann::json extra = nlohmann::json::array(
      {{{"id", 270}, {"content", "<mask>"}, {"lstrip", true}, {"rstrip", false}, {"single_word", false},
        {"normalized", false}, {"special", true}},
       {{"id", 271}, {"content", "<pad>"}, {"lstrip", true}, {"rstrip", true}, {"single_word", false},
        {"normalized", false}, {"special", true}},
       {{"id", 272}, {"content", "ab"}, {"lstrip", false}, {"rstrip", false}, {"single_word", true},
        {"normalized", true}, {"special", false}}});
  const Tokenizer tokenizer = Tokenizer::from_json(tiny_byte_level_json(Split::kGpt2ByteLevel, false, false, extra));
  // lstrip: the space before "<mask>" belongs to the token; " b" keeps its space.
  EXPECT_EQ(tokenizer.encode("a <mask> b"), Ids({97, 270, 32, 98}));
  // lstrip and rstrip: both spaces belong to the token.
  EXPECT_EQ(tokenizer.encode("a  <pad>  b"), Ids({97, 271, 98}));
  // single_word: matched between spaces, not inside a word.
  EXPECT_EQ(tokenizer.encode("x ab y"), Ids({120, 32, 272, 32, 121}));
  EXPECT_EQ(tokenizer.encode("xab"), Ids({120, 97, 98}));
  // Decoding an added token gives its content.
  EXPECT_EQ(tokenizer.decode({97, 270}), "a<mask>");
}

}  // namespace
}  // namespace dcomp::testing
