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

}  // namespace

int64_t gguf_token_id(const GgufFile& file, const std::string& key) {
  if (!file.has(key)) return -1;
  const uint64_t id = file.unsigned_integer(key);
  return id >= 0xFFFFFFFFull ? -1 : static_cast<int64_t>(id);
}

HuggingFaceTokenizer tokenizer_from_gguf(const GgufFile& file) {
  const std::string model = file.string("tokenizer.ggml.model");
  if (model != "llama" && model != "gpt2")
    throw file.error("tokenizer.ggml.model '" + model +
                     "' is a tokenizer dcomp cannot convert (known: llama (SentencePiece BPE), gpt2 (byte-level BPE))");
  const auto& tokens = file.strings("tokenizer.ggml.tokens");
  if (tokens.empty()) throw file.error("tokenizer.ggml.tokens is empty");
  check_token_lengths(file, tokens);
  std::vector<int64_t> types(tokens.size(), 1);
  if (file.has("tokenizer.ggml.token_type")) {
    types = file.integers("tokenizer.ggml.token_type");
    if (types.size() != tokens.size())
      throw file.error("tokenizer.ggml.token_type has " + std::to_string(types.size()) + " entries for " +
                       std::to_string(tokens.size()) + " tokens");
  }
  const auto check_id = [&](const char* key) {
    const int64_t id = gguf_token_id(file, key);
    if (id >= static_cast<int64_t>(tokens.size()))
      throw file.error(std::string(key) + " " + std::to_string(id) + " is not below the vocabulary size " +
                       std::to_string(tokens.size()));
    return id;
  };
  const int64_t bos = check_id("tokenizer.ggml.bos_token_id");
  const int64_t eos = check_id("tokenizer.ggml.eos_token_id");
  const int64_t unk = check_id("tokenizer.ggml.unknown_token_id");
  const int64_t pad = check_id("tokenizer.ggml.padding_token_id");
  const bool sentencepiece = model == "llama";
  const bool add_bos = optional_flag(file, "tokenizer.ggml.add_bos_token", sentencepiece) && bos >= 0;
  const bool add_eos = optional_flag(file, "tokenizer.ggml.add_eos_token", false) && eos >= 0;

  std::unordered_map<std::string, int64_t> vocab_ids;
  for (size_t id = 0; id < tokens.size(); ++id) vocab_ids[tokens[id]] = static_cast<int64_t>(id);  // the last wins
  // In id order, appended without a lookup (ordered_json's operator[] searches linearly:
  // quadratic in a 128k vocabulary); the keys are unique since each token is taken once.
  Json vocab = Json::object();
  auto& entries = vocab.get_ref<Json::object_t&>();
  entries.reserve(vocab_ids.size());
  for (size_t id = 0; id < tokens.size(); ++id)
    if (vocab_ids.at(tokens[id]) == static_cast<int64_t>(id)) entries.emplace_back(tokens[id], Json(id));

  Json added = Json::array();
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (types[id] != kTokenUnknown && types[id] != kTokenControl && types[id] != kTokenUserDefined) continue;
    added.push_back({{"id", id}, {"content", tokens[id]}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", types[id] != kTokenUserDefined}});
  }

  HuggingFaceTokenizer out;
  Json& json = out.tokenizer;
  json["version"] = "1.0";
  json["truncation"] = nullptr;
  json["padding"] = nullptr;
  json["added_tokens"] = added;
  Json bpe = {{"type", "BPE"}, {"dropout", nullptr}};
  if (sentencepiece) {
    if (!file.has("tokenizer.ggml.scores")) throw file.error("tokenizer.ggml.scores is missing (a SentencePiece vocabulary needs it)");
    const auto scores = file.reals("tokenizer.ggml.scores");
    if (scores.size() != tokens.size())
      throw file.error("tokenizer.ggml.scores has " + std::to_string(scores.size()) + " entries for " +
                       std::to_string(tokens.size()) + " tokens");
    const bool space_prefix = optional_flag(file, "tokenizer.ggml.add_space_prefix", true);
    const Json replace_space = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}};
    json["normalizer"] = space_prefix ? Json{{"type", "Sequence"},
                                            {"normalizers", Json::array({{{"type", "Prepend"}, {"prepend", "\u2581"}},
                                                                         replace_space})}}
                                      : replace_space;
    json["pre_tokenizer"] = nullptr;
    json["post_processor"] = template_post_processor(tokens, bos, eos, add_bos, add_eos);
    Json decoders = Json::array({{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                                 {{"type", "ByteFallback"}},
                                 {{"type", "Fuse"}}});
    if (space_prefix) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    json["decoder"] = {{"type", "Sequence"}, {"decoders", decoders}};
    bpe.update({{"unk_token", unk >= 0 ? Json(tokens[unk]) : Json(nullptr)},
                {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr}, {"fuse_unk", true},
                {"byte_fallback", true}, {"ignore_merges", false}, {"vocab", vocab},
                {"merges", sentencepiece_merges(tokens, scores, vocab_ids,
                                                [&](const std::string& problem) { throw file.error(problem); })}});
  } else {
    auto [pre_tokenizer, ignore_merges] = byte_level_pre_tokenizer(file);
    json["normalizer"] = nullptr;
    json["pre_tokenizer"] = pre_tokenizer;
    json["post_processor"] = add_bos || add_eos ? template_post_processor(tokens, bos, eos, add_bos, add_eos)
                                                : byte_level(true, false, true);
    json["decoder"] = byte_level(true, true, true);
    bpe.update({{"unk_token", nullptr}, {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", ignore_merges}, {"vocab", vocab},
                {"merges", stored_merges(file)}});
  }
  json["model"] = bpe;

  Json& config = out.tokenizer_config;
  config["add_bos_token"] = add_bos;
  config["add_eos_token"] = add_eos;
  config["bos_token"] = bos >= 0 ? Json(tokens[bos]) : Json(nullptr);
  config["eos_token"] = eos >= 0 ? Json(tokens[eos]) : Json(nullptr);
  config["unk_token"] = unk >= 0 ? Json(tokens[unk]) : Json(nullptr);
  config["pad_token"] = pad >= 0 ? Json(tokens[pad]) : Json(nullptr);
  config["clean_up_tokenization_spaces"] = false;
  if (file.has("llama.context_length")) config["model_max_length"] = file.unsigned_integer("llama.context_length");
  config["tokenizer_class"] = sentencepiece ? "LlamaTokenizerFast" : "PreTrainedTokenizerFast";
  if (sentencepiece) config["legacy"] = true;
  if (file.has("tokenizer.chat_template")) config["chat_template"] = file.string("tokenizer.chat_template");
  return out;
}

}  // namespace dcomp::gguf
