// Fuzzes the tokenizer loader (kernels/tokenizer/tokenizer.cpp and the components it
// reads: BPE model, normalizer, pre-tokenizer, decoder, added tokens). The input is
// split at NUL bytes into tokenizer.json, tokenizer_config.json (default "{}") and a
// text (default: a fixed sample). An accepted tokenizer encodes the text, and every
// id it produces must name a token.
// reference: https://llvm.org/docs/LibFuzzer.html

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/tokenizer/tokenizer.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using dcomp::fuzz::check;
using dcomp::tok::Tokenizer;
using dcomp::tok::TokenizerError;

constexpr std::string_view kSampleText = "Hello world! <s>Once upon a time, 12345 caf\xc3\xa9s\n\n  d'oh \xe2\x96\x81x</s>";

// The input's NUL-separated parts; a missing part is nullopt.
std::vector<std::optional<std::string_view>> split_parts(std::string_view input, size_t count) {
  std::vector<std::optional<std::string_view>> parts(count);
  for (size_t i = 0; i < count; ++i) {
    const size_t end = i + 1 < count ? input.find('\0') : std::string_view::npos;
    parts[i] = input.substr(0, end);
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  return parts;
}

void exercise(const Tokenizer& tokenizer, std::string_view text) {
  std::vector<int32_t> ids;
  dcomp::fuzz::parse_or_reject<TokenizerError>([&] { ids = tokenizer.encode(text); });
  for (const int32_t id : ids) {
    check(id >= 0 && static_cast<size_t>(id) < tokenizer.vocab_size(), "encode gives ids below vocab_size");
    try {
      tokenizer.id_to_token(id);
    } catch (const TokenizerError& error) {
      dcomp::fuzz::fail(std::string("encode gave an id without a token: ") + error.what());
    }
  }
  // Every id names a token, but a hostile decoder may still be refused (GrowthLimit).
  dcomp::fuzz::parse_or_reject<TokenizerError>([&] { tokenizer.decode(ids); });
  dcomp::fuzz::parse_or_reject<TokenizerError>([&] { tokenizer.decode(ids, /*skip_special_tokens=*/true); });
  for (const auto id : {tokenizer.bos_id(), tokenizer.eos_id()}) {
    if (id) check(tokenizer.token_to_id(tokenizer.id_to_token(*id)).has_value(), "bos/eos tokens are in the vocabulary");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = split_parts(std::string_view(reinterpret_cast<const char*>(data), size), 3);
  std::optional<Tokenizer> tokenizer;
  dcomp::fuzz::parse_or_reject<TokenizerError>([&] {
    tokenizer = Tokenizer::from_json(std::string(*parts[0]), std::string(parts[1].value_or("{}")), "fuzz/tokenizer.json");
  });
  if (tokenizer) exercise(*tokenizer, parts[2].value_or(kSampleText));
  return 0;
}
