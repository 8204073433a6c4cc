// reference: transformers/convert_slow_tokenizer.py (SentencePieceExtractor.extract merges);
// llama.cpp src/llama-vocab.cpp (the pre-tokenizer regexes per LLAMA_VOCAB_PRE_TYPE)
#include "kernels/gguf/gguf_tokenizer.hpp"

#include <unordered_map>

#include "kernels/gguf/sentencepiece_merges.hpp"
#include "kernels/tokenizer/split_pattern.hpp"

namespace dcomp::gguf {
namespace {

using Json = nlohmann::ordered_json;

constexpr int64_t kTokenUnknown = 2, kTokenControl = 3, kTokenUserDefined = 4;

bool optional_flag(const GgufFile& file, const std::string& key, bool fallback) {
  return file.has(key) ? file.boolean(key) : fallback;
}

// Each token (and each half of a stored merge) is at most kMaxTokenBytes long, so that
// the conversion's time and output stay linear in the vocabulary.
void check_token_lengths(const GgufFile& file, const std::vector<std::string>& tokens) {
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i].size() > kMaxTokenBytes)
      throw file.error("tokenizer.ggml.tokens[" + std::to_string(i) + "] is " + std::to_string(tokens[i].size()) +
                       " bytes long, more than dcomp's limit of " + std::to_string(kMaxTokenBytes) + " bytes a token");
}

Json stored_merges(const GgufFile& file) {
  Json list = Json::array();
  const auto& merges = file.strings("tokenizer.ggml.merges");
  for (size_t i = 0; i < merges.size(); ++i) {
    if (merges[i].size() > 2 * kMaxTokenBytes + 1)
      throw file.error("tokenizer.ggml.merges[" + std::to_string(i) + "] is " + std::to_string(merges[i].size()) +
                       " bytes long, more than two tokens of dcomp's limit of " + std::to_string(kMaxTokenBytes) +
                       " bytes");
    const auto space = merges[i].find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == merges[i].size() ||
        merges[i].find(' ', space + 1) != std::string::npos)
      throw file.error("tokenizer.ggml.merges[" + std::to_string(i) + "] \"" + merges[i] +
                       "\" is not two tokens separated by one space");
    list.push_back(Json::array({merges[i].substr(0, space), merges[i].substr(space + 1)}));
  }
  return list;
}

Json byte_level(bool add_prefix_space, bool trim_offsets, bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", trim_offsets},
          {"use_regex", use_regex}};
}

// A Split on one of the regexes dcomp's tokenizer matches (the text it recognises).
Json regex_split(const tok::SplitPattern& pattern) {
  return {{"type", "Split"},
          {"pattern", {{"Regex", std::string(pattern.regex())}}},
          {"behavior", "Isolated"},
          {"invert", false}};
}

// The byte-level pre-tokenizer for tokenizer.ggml.pre, and whether merges are ignored
// for words already in the vocabulary.
std::pair<Json, bool> byte_level_pre_tokenizer(const GgufFile& file) {
  const std::string pre = file.has("tokenizer.ggml.pre") ? file.string("tokenizer.ggml.pre") : "default";
  if (pre == "default" || pre == "gpt2") return {byte_level(false, true, true), false};
  if (pre == "smollm")
    return {{{"type", "Sequence"},
             {"pretokenizers",
              Json::array({{{"type", "Digits"}, {"individual_digits", true}}, byte_level(false, true, true)})}},
            false};
  if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3")
    return {{{"type", "Sequence"}, {"pretokenizers", Json::array({regex_split(tok::SplitPattern::llama3()), byte_level(false, true, false)})}},
            true};
  if (pre == "qwen2")
    return {{{"type", "Sequence"}, {"pretokenizers", Json::array({regex_split(tok::SplitPattern::qwen2()), byte_level(false, false, false)})}},
            false};
  throw file.error("tokenizer.ggml.pre '" + pre +
                   "' is a pre-tokenizer dcomp cannot convert (known: default, gpt2, smollm, llama-bpe, qwen2)");
}

// BOS (and EOS) around a single sequence, as the tokenizer.json post-processor.
Json template_post_processor(const std::vector<std::string>& tokens, int64_t bos, int64_t eos, bool add_bos,
                             bool add_eos) {
  Json specials = Json::object();
  const auto special = [&](int64_t id, int type_id) {
    return Json{{"SpecialToken", {{"id", tokens[id]}, {"type_id", type_id}}}};
  };
  const auto sequence = [&](Json& target, const char* name, int type_id) {
    if (add_bos) target.push_back(special(bos, type_id));
    target.push_back({{"Sequence", {{"id", name}, {"type_id", type_id}}}});
    if (add_eos) target.push_back(special(eos, type_id));
  };
  Json single = Json::array(), pair = Json::array();
  sequence(single, "A", 0);
  sequence(pair, "A", 0);
  sequence(pair, "B", 1);
  if (add_bos) specials[tokens[bos]] = {{"id", tokens[bos]}, {"ids", Json::array({bos})}, {"tokens", Json::array({tokens[bos]})}};
  if (add_eos) specials[tokens[eos]] = {{"id", tokens[eos]}, {"ids", Json::array({eos})}, {"tokens", Json::array({tokens[eos]})}};
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
}

// tokenizer.ggml.model, which must be "llama" (SentencePiece BPE) or "gpt2" (byte-level BPE).
std::string tokenizer_model(const GgufFile& file) {
  const std::string model = file.string("tokenizer.ggml.model");
  if (model != "llama" && model != "gpt2")
    throw file.error("tokenizer.ggml.model '" + model +
                     "' is a tokenizer dcomp cannot convert (known: llama (SentencePiece BPE), gpt2 (byte-level BPE))");
  return model;
}

// tokenizer.ggml.tokens: not empty, each token within kMaxTokenBytes.
const std::vector<std::string>& vocabulary_tokens(const GgufFile& file) {
  const auto& tokens = file.strings("tokenizer.ggml.tokens");
  if (tokens.empty()) throw file.error("tokenizer.ggml.tokens is empty");
  check_token_lengths(file, tokens);
  return tokens;
}

// tokenizer.ggml.token_type, one per token; every token is normal (1) when it is absent.
std::vector<int64_t> token_types(const GgufFile& file, const std::vector<std::string>& tokens) {
  std::vector<int64_t> types(tokens.size(), 1);
  if (file.has("tokenizer.ggml.token_type")) {
    types = file.integers("tokenizer.ggml.token_type");
    if (types.size() != tokens.size())
      throw file.error("tokenizer.ggml.token_type has " + std::to_string(types.size()) + " entries for " +
                       std::to_string(tokens.size()) + " tokens");
  }
  return types;
}

// The special tokens' ids (-1 where the file names none), and whether BOS and EOS are
// added around each sequence.
struct SpecialTokens {
  int64_t bos, eos, unk, pad;
  bool add_bos, add_eos;
};

SpecialTokens special_tokens(const GgufFile& file, const std::vector<std::string>& tokens, bool sentencepiece) {
  const auto check_id = [&](const char* key) {
    const int64_t id = gguf_token_id(file, key);
    if (id >= static_cast<int64_t>(tokens.size()))
      throw file.error(std::string(key) + " " + std::to_string(id) + " is not below the vocabulary size " +
                       std::to_string(tokens.size()));
    return id;
  };
  SpecialTokens special;
  special.bos = check_id("tokenizer.ggml.bos_token_id");
  special.eos = check_id("tokenizer.ggml.eos_token_id");
  special.unk = check_id("tokenizer.ggml.unknown_token_id");
  special.pad = check_id("tokenizer.ggml.padding_token_id");
  special.add_bos = optional_flag(file, "tokenizer.ggml.add_bos_token", sentencepiece) && special.bos >= 0;
  special.add_eos = optional_flag(file, "tokenizer.ggml.add_eos_token", false) && special.eos >= 0;
  return special;
}

// Each token's id; a repeated token keeps its last id.
std::unordered_map<std::string, int64_t> token_ids(const std::vector<std::string>& tokens) {
  std::unordered_map<std::string, int64_t> vocab_ids;
  for (size_t id = 0; id < tokens.size(); ++id) vocab_ids[tokens[id]] = static_cast<int64_t>(id);  // the last wins
  return vocab_ids;
}

// The BPE model's "vocab" object: token -> id, in id order.
Json vocab_object(const std::vector<std::string>& tokens, const std::unordered_map<std::string, int64_t>& vocab_ids) {
  // In id order, appended without a lookup (ordered_json's operator[] searches linearly:
  // quadratic in a 128k vocabulary); the keys are unique since each token is taken once.
  Json vocab = Json::object();
  auto& entries = vocab.get_ref<Json::object_t&>();
  entries.reserve(vocab_ids.size());
  for (size_t id = 0; id < tokens.size(); ++id)
    if (vocab_ids.at(tokens[id]) == static_cast<int64_t>(id)) entries.emplace_back(tokens[id], Json(id));
  return vocab;
}

// tokenizer.json's "added_tokens": the unknown, control (special) and user-defined tokens.
Json added_tokens_list(const std::vector<std::string>& tokens, const std::vector<int64_t>& types) {
  Json added = Json::array();
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (types[id] != kTokenUnknown && types[id] != kTokenControl && types[id] != kTokenUserDefined) continue;
    added.push_back({{"id", id}, {"content", tokens[id]}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", types[id] != kTokenUserDefined}});
  }
  return added;
}

// tokenizer.ggml.scores, one per token (a SentencePiece vocabulary needs them).
std::vector<double> sentencepiece_scores(const GgufFile& file, const std::vector<std::string>& tokens) {
  if (!file.has("tokenizer.ggml.scores")) throw file.error("tokenizer.ggml.scores is missing (a SentencePiece vocabulary needs it)");
  const auto scores = file.reals("tokenizer.ggml.scores");
  if (scores.size() != tokens.size())
    throw file.error("tokenizer.ggml.scores has " + std::to_string(scores.size()) + " entries for " +
                     std::to_string(tokens.size()) + " tokens");
  return scores;
}

// Spaces become U+2581, with one prepended to the text when space_prefix is set.
Json sentencepiece_normalizer(bool space_prefix) {
  const Json replace_space = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}};
  return space_prefix ? Json{{"type", "Sequence"},
                             {"normalizers", Json::array({{{"type", "Prepend"}, {"prepend", "\u2581"}},
                                                          replace_space})}}
                      : replace_space;
}

// U+2581 back to spaces, byte-fallback tokens to bytes, and the prepended space stripped.
Json sentencepiece_decoder(bool space_prefix) {
  Json decoders = Json::array({{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                               {{"type", "ByteFallback"}},
                               {{"type", "Fuse"}}});
  if (space_prefix) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  return {{"type", "Sequence"}, {"decoders", decoders}};
}

// The SentencePiece (tokenizer.ggml.model "llama") normalizer, pre-tokenizer, post-processor
// and decoder into json, and its BPE settings and merges (derived from the scores) into bpe.
void add_sentencepiece_model(const GgufFile& file, const std::vector<std::string>& tokens,
                             const SpecialTokens& special, const Json& vocab,
                             const std::unordered_map<std::string, int64_t>& vocab_ids, Json& json, Json& bpe) {
  const auto scores = sentencepiece_scores(file, tokens);
  const bool space_prefix = optional_flag(file, "tokenizer.ggml.add_space_prefix", true);
  json["normalizer"] = sentencepiece_normalizer(space_prefix);
  json["pre_tokenizer"] = nullptr;
  json["post_processor"] = template_post_processor(tokens, special.bos, special.eos, special.add_bos, special.add_eos);
  json["decoder"] = sentencepiece_decoder(space_prefix);
  bpe.update({{"unk_token", special.unk >= 0 ? Json(tokens[special.unk]) : Json(nullptr)},
              {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr}, {"fuse_unk", true},
              {"byte_fallback", true}, {"ignore_merges", false}, {"vocab", vocab},
              {"merges", sentencepiece_merges(tokens, scores, vocab_ids,
                                              [&](const std::string& problem) { throw file.error(problem); })}});
}

// The byte-level (tokenizer.ggml.model "gpt2") normalizer, pre-tokenizer, post-processor and
// decoder into json, and its BPE settings and stored merges into bpe.
void add_byte_level_model(const GgufFile& file, const std::vector<std::string>& tokens,
                          const SpecialTokens& special, const Json& vocab, Json& json, Json& bpe) {
  auto [pre_tokenizer, ignore_merges] = byte_level_pre_tokenizer(file);
  json["normalizer"] = nullptr;
  json["pre_tokenizer"] = pre_tokenizer;
  json["post_processor"] = special.add_bos || special.add_eos
                               ? template_post_processor(tokens, special.bos, special.eos, special.add_bos,
                                                         special.add_eos)
                               : byte_level(true, false, true);
  json["decoder"] = byte_level(true, true, true);
  bpe.update({{"unk_token", nullptr}, {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
              {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", ignore_merges}, {"vocab", vocab},
              {"merges", stored_merges(file)}});
}

// tokenizer_config.json: the special tokens by text, the context length and the chat template.
Json tokenizer_config_json(const GgufFile& file, const std::vector<std::string>& tokens, const SpecialTokens& special,
                           bool sentencepiece) {
  Json config;
  config["add_bos_token"] = special.add_bos;
  config["add_eos_token"] = special.add_eos;
  config["bos_token"] = special.bos >= 0 ? Json(tokens[special.bos]) : Json(nullptr);
  config["eos_token"] = special.eos >= 0 ? Json(tokens[special.eos]) : Json(nullptr);
  config["unk_token"] = special.unk >= 0 ? Json(tokens[special.unk]) : Json(nullptr);
  config["pad_token"] = special.pad >= 0 ? Json(tokens[special.pad]) : Json(nullptr);
  config["clean_up_tokenization_spaces"] = false;
  if (file.has("llama.context_length")) config["model_max_length"] = file.unsigned_integer("llama.context_length");
  config["tokenizer_class"] = sentencepiece ? "LlamaTokenizerFast" : "PreTrainedTokenizerFast";
  if (sentencepiece) config["legacy"] = true;
  if (file.has("tokenizer.chat_template")) config["chat_template"] = file.string("tokenizer.chat_template");
  return config;
}

}  // namespace

int64_t gguf_token_id(const GgufFile& file, const std::string& key) {
  if (!file.has(key)) return -1;
  const uint64_t id = file.unsigned_integer(key);
  return id >= 0xFFFFFFFFull ? -1 : static_cast<int64_t>(id);
}

HuggingFaceTokenizer tokenizer_from_gguf(const GgufFile& file) {
  const std::string model = tokenizer_model(file);
  const auto& tokens = vocabulary_tokens(file);
  const std::vector<int64_t> types = token_types(file, tokens);
  const bool sentencepiece = model == "llama";
  const SpecialTokens special = special_tokens(file, tokens, sentencepiece);
  const auto vocab_ids = token_ids(tokens);
  const Json vocab = vocab_object(tokens, vocab_ids);

  HuggingFaceTokenizer out;
  Json& json = out.tokenizer;
  json["version"] = "1.0";
  json["truncation"] = nullptr;
  json["padding"] = nullptr;
  json["added_tokens"] = added_tokens_list(tokens, types);
  Json bpe = {{"type", "BPE"}, {"dropout", nullptr}};
  if (sentencepiece)
    add_sentencepiece_model(file, tokens, special, vocab, vocab_ids, json, bpe);
  else
    add_byte_level_model(file, tokens, special, vocab, json, bpe);
  json["model"] = bpe;
  out.tokenizer_config = tokenizer_config_json(file, tokens, special, sentencepiece);
  return out;
}

}  // namespace dcomp::gguf
