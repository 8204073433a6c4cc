// The hand-written split-regex matchers, the Unicode classes they use and the UTF-8
// helpers. Expected pieces are worked out by hand from the regex semantics
// (leftmost alternative first, greedy quantifiers, backtracking into \s+(?!\S)).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/tokenizer/split_pattern.hpp"
#include "kernels/tokenizer/unicode_categories.hpp"
#include "kernels/tokenizer/utf8.hpp"

namespace dcomp::testing {
namespace {

using tok::SplitPattern;
using Pieces = std::vector<std::string>;

Pieces pieces_of(const SplitPattern& pattern, const std::string& text) {
  Pieces pieces;
  size_t covered = 0;
  for (const auto& [begin, end] : pattern.find_matches(text)) {
    EXPECT_EQ(begin, covered) << "these patterns match every character of \"" << text << "\"";
    pieces.push_back(text.substr(begin, end - begin));
    covered = end;
  }
  EXPECT_EQ(covered, text.size());
  return pieces;
}

const std::string kMixed = "I'm  h\xC3\xA9llo \xE4\xB8\xAD\xE6\x96\x87 123!! <|x|>\n\n  end  ";

TEST(SplitPattern, Gpt2Pieces) {
  const SplitPattern gpt2 = SplitPattern::gpt2();
  EXPECT_EQ(pieces_of(gpt2, kMixed), Pieces({"I", "'m", " ", " h\xC3\xA9llo", " \xE4\xB8\xAD\xE6\x96\x87", " 123", "!!",
                                             " <|", "x", "|>", "\n\n ", " end", "  "}));
  // Contractions are case-sensitive: "'S" is punctuation then a letter.
  EXPECT_EQ(pieces_of(gpt2, "IT'S we'll"), Pieces({"IT", "'", "S", " we", "'ll"}));
  EXPECT_EQ(pieces_of(gpt2, "1234567"), Pieces({"1234567"}));
  EXPECT_EQ(pieces_of(gpt2, "(hello\thi"), Pieces({"(", "hello", "\t", "hi"}));
  EXPECT_EQ(pieces_of(gpt2, "a \n  b"), Pieces({"a", " \n ", " b"}));
  // Letter numbers and non-ASCII digits are \p{N}; Greek and Cyrillic are \p{L}.
  EXPECT_EQ(pieces_of(gpt2, "\xE2\x85\xAB\xD9\xA3 \xCE\xA9\xD0\xBC\xD0\xB8\xD1\x80"),
            Pieces({"\xE2\x85\xAB\xD9\xA3", " \xCE\xA9\xD0\xBC\xD0\xB8\xD1\x80"}));
}

TEST(SplitPattern, Llama3Pieces) {
  const SplitPattern llama3 = SplitPattern::llama3();
  EXPECT_EQ(pieces_of(llama3, kMixed), Pieces({"I", "'m", " ", " h\xC3\xA9llo", " \xE4\xB8\xAD\xE6\x96\x87", " ", "123",
                                               "!!", " <|", "x", "|>\n\n", " ", " end", "  "}));
  // Case-insensitive contractions.
  EXPECT_EQ(pieces_of(llama3, "IT'S WE'LL"), Pieces({"IT", "'S", " WE", "'LL"}));
  EXPECT_EQ(pieces_of(llama3, "1234567"), Pieces({"123", "456", "7"}));
  // One non-letter, non-digit, non-newline character may lead a word.
  EXPECT_EQ(pieces_of(llama3, "(hello\thi"), Pieces({"(hello", "\thi"}));
  // \s*[\r\n]+ ends at the last line break of the white-space run.
  EXPECT_EQ(pieces_of(llama3, "a \n  b"), Pieces({"a", " \n", " ", " b"}));
  EXPECT_EQ(pieces_of(llama3, "a \n \nb"), Pieces({"a", " \n \n", "b"}));
  EXPECT_EQ(pieces_of(llama3, "x\r\n"), Pieces({"x", "\r\n"}));
}

TEST(SplitPattern, Qwen2TakesSingleDigits) {
  EXPECT_EQ(pieces_of(SplitPattern::qwen2(), "ab 2024"), Pieces({"ab", " ", "2", "0", "2", "4"}));
}

TEST(SplitPattern, RecognisesOnlyTheKnownRegexes) {
  const auto gpt2 = SplitPattern::recognise(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
  ASSERT_TRUE(gpt2.has_value());
  EXPECT_EQ(gpt2->name(), "gpt2");
  const auto llama3 = SplitPattern::recognise(
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)");
  ASSERT_TRUE(llama3.has_value());
  EXPECT_EQ(llama3->name(), "llama3");
  EXPECT_FALSE(SplitPattern::recognise(R"(\s+)").has_value());
  EXPECT_FALSE(SplitPattern::recognise(R"(\p{N}{1,3})").has_value());
}

TEST(UnicodeCategories, LettersNumbersAndWhiteSpace) {
  for (const char32_t letter : {U'A', U'z', U'\u00AA', U'\u00E9', U'\u03A9', U'\u0436', U'\u05D0', U'\u0628', U'\u0915',
                                U'\u0E01', U'\u3042', U'\u30A2', U'\u4E2D', U'\uAC00', U'\U0001D400', U'\U00020000'}) {
    EXPECT_TRUE(tok::is_letter(letter)) << std::hex << static_cast<uint32_t>(letter);
    EXPECT_FALSE(tok::is_number(letter)) << std::hex << static_cast<uint32_t>(letter);
  }
  for (const char32_t number : {U'0', U'9', U'\u00B2', U'\u00BD', U'\u0663', U'\u0967', U'\u2160', U'\u216B', U'\u2460',
                                U'\uFF13', U'\U0001D7CE'}) {
    EXPECT_TRUE(tok::is_number(number)) << std::hex << static_cast<uint32_t>(number);
    EXPECT_FALSE(tok::is_letter(number)) << std::hex << static_cast<uint32_t>(number);
  }
  // Neither: punctuation, symbols, combining marks, the multiplication sign, emoji.
  for (const char32_t other : {U'!', U'_', U' ', U'\u00D7', U'\u00F7', U'\u0300', U'\u05AB', U'\u093F', U'\u2014',
                               U'\u20AC', U'\U0001F600'}) {
    EXPECT_FALSE(tok::is_letter(other)) << std::hex << static_cast<uint32_t>(other);
    EXPECT_FALSE(tok::is_number(other)) << std::hex << static_cast<uint32_t>(other);
  }
  for (const char32_t space : {U' ', U'\t', U'\n', U'\v', U'\f', U'\r', U'\u0085', U'\u00A0', U'\u1680', U'\u2003',
                               U'\u2028', U'\u202F', U'\u3000'}) {
    EXPECT_TRUE(tok::is_whitespace(space)) << std::hex << static_cast<uint32_t>(space);
  }
  for (const char32_t not_space : {U'a', U'\u200B', U'\u180E', U'\uFEFF'}) {
    EXPECT_FALSE(tok::is_whitespace(not_space)) << std::hex << static_cast<uint32_t>(not_space);
  }
}

TEST(Utf8, ValidationFindsTheFirstIllFormedSequence) {
  EXPECT_EQ(tok::find_invalid_utf8("plain \xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80"), std::string::npos);
  EXPECT_EQ(tok::find_invalid_utf8("\xC0\x80"), 0u);           // overlong NUL
  EXPECT_EQ(tok::find_invalid_utf8("ab\xED\xA0\x80"), 2u);     // surrogate U+D800
  EXPECT_EQ(tok::find_invalid_utf8("abc\xF4\x90\x80\x80"), 3u);  // above U+10FFFF
  EXPECT_EQ(tok::find_invalid_utf8("x\xE4\xB8"), 1u);          // truncated
  EXPECT_EQ(tok::find_invalid_utf8("\x80"), 0u);               // lone continuation byte
}

TEST(Utf8, LossyConversionReplacesMaximalSubparts) {
  // Unicode Standard, Table 3-8 style cases.
  EXPECT_EQ(tok::utf8_lossy("a\xE2\x82" "b"), "a\xEF\xBF\xBD" "b");                         // one truncated sequence
  EXPECT_EQ(tok::utf8_lossy("\xF0\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");       // F0 80 is never valid
  EXPECT_EQ(tok::utf8_lossy("\xC3\xA9\xFF"), "\xC3\xA9\xEF\xBF\xBD");
  std::string encoded;
  for (const char32_t cp : {U'A', U'\u00E9', U'\u4E2D', U'\U0001F600'}) tok::append_utf8(encoded, cp);
  EXPECT_EQ(encoded, "A\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80");
  size_t pos = 0;
  std::vector<char32_t> decoded;
  while (pos < encoded.size()) decoded.push_back(tok::next_code_point(encoded, pos));
  EXPECT_EQ(decoded, std::vector<char32_t>({U'A', U'\u00E9', U'\u4E2D', U'\U0001F600'}));
}

}  // namespace
}  // namespace dcomp::testing
