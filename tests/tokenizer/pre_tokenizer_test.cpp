// Pre-tokenizer and decoder components on their own. Split behaviours use the
// example of the tokenizers documentation for SplitDelimiterBehavior
// ("the-final--countdown" split on "-").
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kernels/tokenizer/decoder.hpp"
#include "kernels/tokenizer/pre_tokenizer.hpp"

namespace dcomp::testing {
namespace {

using tok::JsonContext;
using tok::PreTokenizer;
using Pieces = std::vector<std::string>;

const JsonContext kContext{"test.json", ""};
const std::string kMeta = "\xE2\x96\x81";  // ▁

Pieces split_with(const nlohmann::json& config, const std::string& text, bool at_input_start = true) {
  Pieces pieces;
  for (const tok::PreToken& piece : PreTokenizer::from_json(config, kContext).split({text, at_input_start})) {
    pieces.push_back(piece.text);
  }
  return pieces;
}

nlohmann::json dash_split(const std::string& behavior, bool invert = false) {
  return {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}};
}

TEST(PreTokenizer, SplitDelimiterBehaviors) {
  const std::string text = "the-final--countdown";
  EXPECT_EQ(split_with(dash_split("Removed"), text), Pieces({"the", "final", "countdown"}));
  EXPECT_EQ(split_with(dash_split("Isolated"), text), Pieces({"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split_with(dash_split("MergedWithPrevious"), text), Pieces({"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split_with(dash_split("MergedWithNext"), text), Pieces({"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split_with(dash_split("Contiguous"), text), Pieces({"the", "-", "final", "--", "countdown"}));
  // Inverted, the words are the matches and the dashes lie between them.
  EXPECT_EQ(split_with(dash_split("Removed", true), text), Pieces({"-", "-", "-"}));
  EXPECT_EQ(split_with(dash_split("MergedWithPrevious", true), text), Pieces({"the", "-final", "-", "-countdown"}));
}

TEST(PreTokenizer, MetaspaceReplacesSpacesAndSplitsBeforeThem) {
  const nlohmann::json first = {{"type", "Metaspace"}, {"replacement", kMeta}, {"prepend_scheme", "first"}, {"split", true}};
  EXPECT_EQ(split_with(first, "Hey  friend "), Pieces({kMeta + "Hey", kMeta, kMeta + "friend", kMeta}));
  // "first" prepends only at the start of the input, not after an added token.
  EXPECT_EQ(split_with(first, "Hey you", /*at_input_start=*/false), Pieces({"Hey", kMeta + "you"}));
  const nlohmann::json always = {{"type", "Metaspace"}, {"replacement", kMeta}, {"prepend_scheme", "always"}, {"split", true}};
  EXPECT_EQ(split_with(always, "Hey you", false), Pieces({kMeta + "Hey", kMeta + "you"}));
  const nlohmann::json whole = {{"type", "Metaspace"}, {"replacement", kMeta}, {"prepend_scheme", "never"}, {"split", false}};
  EXPECT_EQ(split_with(whole, "Hey you"), Pieces({"Hey" + kMeta + "you"}));
  // The legacy add_prefix_space flag stands for "always".
  const nlohmann::json legacy = {{"type", "Metaspace"}, {"replacement", kMeta}, {"add_prefix_space", true}};
  EXPECT_EQ(split_with(legacy, "a b", false), Pieces({kMeta + "a", kMeta + "b"}));
}

TEST(PreTokenizer, SequenceAppliesStepsInOrder) {
  const nlohmann::json sequence = {
      {"type", "Sequence"},
      {"pretokenizers", {dash_split("Removed"), {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", false}}}}};
  // Each piece left by the Split gets the prefix space, then the byte-level characters (Ġ = space).
  EXPECT_EQ(split_with(sequence, "ab-cd"), Pieces({"\xC4\xA0" "ab", "\xC4\xA0" "cd"}));
}

TEST(Decoder, SentencePieceSequenceAndMetaspace) {
  const nlohmann::json sentencepiece = nlohmann::json::parse(
      R"({"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},)"
      R"({"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]})");
  const tok::Decoder decoder = tok::Decoder::from_json(sentencepiece, kContext);
  // "▁caf" + bytes of "é" + "▁" + a lone byte 0xFF (ill formed: one U+FFFD per byte).
  EXPECT_EQ(decoder.decode({kMeta + "caf", "<0xC3>", "<0xA9>", kMeta, "<0xFF>"}), "caf\xC3\xA9 \xEF\xBF\xBD");
  // Strip removes one leading space only.
  EXPECT_EQ(decoder.decode({kMeta + kMeta + "x"}), " x");

  const nlohmann::json metaspace = {{"type", "Metaspace"}, {"replacement", kMeta}, {"prepend_scheme", "always"}};
  EXPECT_EQ(tok::Decoder::from_json(metaspace, kContext).decode({kMeta + "Hey", kMeta + "you"}), "Hey you");
  const nlohmann::json never = {{"type", "Metaspace"}, {"replacement", kMeta}, {"prepend_scheme", "never"}};
  EXPECT_EQ(tok::Decoder::from_json(never, kContext).decode({kMeta + "Hey", kMeta + "you"}), " Hey you");
}

}  // namespace
}  // namespace dcomp::testing
