// Fuzzes encoding and decoding (kernels/tokenizer/*) with small, valid tokenizers
// built here: SentencePiece-style BPE (Prepend/Replace normalizer, byte fallback),
// GPT-2 byte-level BPE, Llama-3 and Qwen2 split patterns with byte-level BPE, and a
// Metaspace pre-tokenizer with affixes and stripping added tokens. The first input
// byte picks the tokenizer (low bits) and the mode (high bit); the rest is text to
// encode, or 16-bit little-endian ids to decode. Where the tokenizer is lossless for
// the text, decode(encode(text)) must give the text back.
// reference: https://llvm.org/docs/LibFuzzer.html

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/tokenizer/byte_level.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using dcomp::fuzz::check;
using dcomp::tok::Tokenizer;
using dcomp::tok::TokenizerError;
using nlohmann::json;

constexpr const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Adds `token` to the vocabulary under the next free id.
void add_token(json& vocab, const std::string& token) {
  if (!vocab.contains(token)) vocab[token] = vocab.size();
}

// Adds the merge "left right" and its result (by default left + right) to the vocabulary.
void add_merge(json& model, const std::string& left, const std::string& right, const std::string& result = "") {
  add_token(model["vocab"], left);
  add_token(model["vocab"], right);
  add_token(model["vocab"], result.empty() ? left + right : result);
  model["merges"].push_back(left + " " + right);
}

json added_token(int id, const std::string& content, bool special) {
  return {{"id", id}, {"content", content}, {"special", special}, {"normalized", !special},
          {"lstrip", false}, {"rstrip", false}, {"single_word", false}};
}

// Llama-2 / TinyStories kind: "▁" for spaces, 256 byte-fallback tokens, fused unknowns.
json sentencepiece_tokenizer() {
  json model = {{"type", "BPE"}, {"unk_token", "<unk>"}, {"fuse_unk", true}, {"byte_fallback", true},
                {"vocab", {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}}}, {"merges", json::array()}};
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", byte);
    add_token(model["vocab"], name);
  }
  const std::string space = "\xe2\x96\x81";
  for (const auto& [left, right] : {std::pair{space, "t"}, {"h", "e"}, {space + "t", "he"}, {space, "a"}, {"i", "n"},
                                    {"o", "n"}, {space, "o"}, {space + "o", "n"}, {"c", "e"}, {space + "on", "ce"}}) {
    add_merge(model, left, right);
  }
  return {{"model", model},
          {"added_tokens", {added_token(0, "<unk>", true), added_token(1, "<s>", true), added_token(2, "</s>", true)}},
          {"normalizer", {{"type", "Sequence"},
                          {"normalizers", {{{"type", "Prepend"}, {"prepend", space}},
                                           {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", space}}}}}},
          {"pre_tokenizer", nullptr},
          {"decoder", {{"type", "Sequence"},
                       {"decoders", {{{"type", "Replace"}, {"pattern", {{"String", space}}}, {"content", " "}},
                                     {{"type", "ByteFallback"}},
                                     {{"type", "Fuse"}},
                                     {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}}};
}

// A byte-level BPE model: the 256 byte characters and a few merges.
json byte_level_model() {
  json model = {{"type", "BPE"}, {"vocab", json::object()}, {"merges", json::array()}};
  for (int byte = 0; byte < 256; ++byte) add_token(model["vocab"], dcomp::tok::byte_level_encode(std::string(1, char(byte))));
  const std::string space = dcomp::tok::byte_level_encode(" ");
  for (const auto& [left, right] : {std::pair{space, "t"}, {"h", "e"}, {space + "t", "he"}, {space, "w"}, {"o", "r"},
                                    {space + "w", "or"}, {"l", "d"}, {space + "wor", "ld"}, {"1", "2"}, {"12", "3"}}) {
    add_merge(model, left, right);
  }
  return model;
}

json gpt2_tokenizer() {
  json model = byte_level_model();
  const int eot = static_cast<int>(model["vocab"].size());
  model["vocab"]["<|endoftext|>"] = eot;
  return {{"model", model},
          {"added_tokens", {added_token(eot, "<|endoftext|>", true)}},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"decoder", {{"type", "ByteLevel"}}}};
}

json split_tokenizer(const char* regex) {
  json model = byte_level_model();
  model["ignore_merges"] = true;
  const int begin = static_cast<int>(model["vocab"].size());
  return {{"model", model},
          {"added_tokens", {added_token(begin, "<|begin_of_text|>", true), added_token(begin + 1, "<|end_of_text|>", true)}},
          {"pre_tokenizer", {{"type", "Sequence"},
                             {"pretokenizers", {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"},
                                                 {"invert", false}},
                                                {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}},
          {"decoder", {{"type", "ByteLevel"}}}};
}

// Metaspace pre-tokenizer and decoder, word affixes, an unknown token without byte
// fallback, and added tokens that strip spaces or must stand alone.
json metaspace_tokenizer() {
  json model = {{"type", "BPE"}, {"unk_token", "[UNK]"}, {"fuse_unk", false}, {"continuing_subword_prefix", "##"},
                {"end_of_word_suffix", "</w>"}, {"vocab", {{"[UNK]", 0}}}, {"merges", json::array()}};
  for (const std::string word : {"a", "b", "c", "\xe2\x96\x81"}) {
    add_token(model["vocab"], word);
    add_token(model["vocab"], "##" + word);
    add_token(model["vocab"], word + "</w>");
    add_token(model["vocab"], "##" + word + "</w>");
  }
  add_merge(model, "a", "##b", "ab");  // the continuing-subword prefix is dropped when merging
  add_merge(model, "ab", "##c</w>", "abc</w>");
  json added = {added_token(100, "[CLS]", true), added_token(101, "<mask>", true), added_token(102, "ab", false)};
  added[1]["lstrip"] = true;
  added[1]["rstrip"] = true;
  added[2]["single_word"] = true;
  return {{"model", model},
          {"added_tokens", added},
          {"normalizer", {{"type", "Replace"}, {"pattern", {{"String", "c"}}}, {"content", "cc"}}},
          {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", "\xe2\x96\x81"}, {"prepend_scheme", "first"}, {"split", true}}},
          {"decoder", {{"type", "Metaspace"}, {"replacement", "\xe2\x96\x81"}, {"prepend_scheme", "first"}}}};
}

struct FixedTokenizer {
  Tokenizer tokenizer;
  bool lossless;                       // decode(encode(text)) == text, for texts `round_trips` accepts
  std::vector<std::string> not_lossless_for;  // substrings whose texts are not checked
};

std::vector<FixedTokenizer> make_tokenizers() {
  const auto load = [](const json& tokenizer, const std::string& config) {
    try {
      return Tokenizer::from_json(tokenizer.dump(), config, "fixed/tokenizer.json");
    } catch (const std::exception& error) {
      dcomp::fuzz::fail(std::string("a fixed tokenizer does not load: ") + error.what());
    }
  };
  std::vector<FixedTokenizer> tokenizers;
  // Added tokens in the middle of the text get their own "▁" prefix, as upstream; the
  // decoder turns a literal "▁" into a space.
  tokenizers.push_back({load(sentencepiece_tokenizer(), R"({"bos_token": "<s>", "eos_token": {"content": "</s>"}})"), true,
                        {"\xe2\x96\x81", "<s>", "</s>", "<unk>"}});
  tokenizers.push_back({load(gpt2_tokenizer(), R"({"eos_token": "<|endoftext|>"})"), true, {}});
  tokenizers.push_back({load(split_tokenizer(kLlama3Regex), R"({"bos_token": "<|begin_of_text|>"})"), true, {}});
  tokenizers.push_back({load(split_tokenizer(kQwen2Regex), "{}"), true, {}});
  tokenizers.push_back({load(metaspace_tokenizer(), "{}"), false, {}});
  return tokenizers;
}

bool checks_round_trip(const FixedTokenizer& fixed, std::string_view text) {
  if (!fixed.lossless) return false;
  for (const std::string& part : fixed.not_lossless_for) {
    if (text.find(part) != std::string_view::npos) return false;
  }
  return true;
}

void encode_text(const FixedTokenizer& fixed, std::string_view text) {
  std::vector<int32_t> ids;
  try {
    ids = fixed.tokenizer.encode(text);
  } catch (const TokenizerError&) {
    return;  // text that is not UTF-8
  }
  std::string decoded;
  try {
    decoded = fixed.tokenizer.decode(ids);
    fixed.tokenizer.decode(ids, /*skip_special_tokens=*/true);
  } catch (const std::exception& error) {
    dcomp::fuzz::fail(std::string("the ids of encode do not decode: ") + error.what());
  }
  if (checks_round_trip(fixed, text)) {
    check(decoded == text, "decode(encode(text)) == text; got \"" + decoded + "\" for \"" + std::string(text) + "\"");
  }
}

void decode_ids(const FixedTokenizer& fixed, const uint8_t* data, size_t size) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i + 1 < size; i += 2) ids.push_back(static_cast<int16_t>(data[i] | (data[i + 1] << 8)));
  dcomp::fuzz::parse_or_reject<TokenizerError>([&] { fixed.tokenizer.decode(ids); });
  dcomp::fuzz::parse_or_reject<TokenizerError>([&] { fixed.tokenizer.decode(ids, /*skip_special_tokens=*/true); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<FixedTokenizer> tokenizers = make_tokenizers();
  if (size == 0) return 0;
  const FixedTokenizer& fixed = tokenizers[(data[0] & 0x7F) % tokenizers.size()];
  if (data[0] & 0x80) {
    decode_ids(fixed, data + 1, size - 1);
  } else {
    encode_text(fixed, std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  }
  return 0;
}
