// reference: huggingface/tokenizers tokenizer/mod.rs (encode: added tokens, normalizer,
// pre-tokenizer, model; decode: ids to tokens, decoder) and the tokenizer.json format
// it serializes; transformers' tokenizer_config.json for bos_token / eos_token.
#include "kernels/tokenizer/tokenizer.hpp"

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "kernels/json/bounded_json.hpp"
#include "kernels/tokenizer/added_vocabulary.hpp"
#include "kernels/tokenizer/bpe_model.hpp"
#include "kernels/tokenizer/decoder.hpp"
#include "kernels/tokenizer/json_fields.hpp"
#include "kernels/tokenizer/normalizer.hpp"
#include "kernels/tokenizer/pre_tokenizer.hpp"
#include "kernels/tokenizer/utf8.hpp"

namespace dcomp::tok {

struct Tokenizer::Impl {
  std::string source;
  BpeModel model;
  std::optional<Normalizer> normalizer;
  std::optional<PreTokenizer> pre_tokenizer;
  std::optional<Decoder> decoder;
  AddedVocabulary added;
  std::optional<int32_t> bos;
  std::optional<int32_t> eos;
  size_t vocab_size = 0;

  std::optional<int32_t> token_to_id(const std::string& token) const {
    if (const auto id = added.find_by_content(token)) return id;
    return model.token_to_id(token);
  }
  // The token text of `id`, or nullptr for an id that neither the added tokens nor the vocab has.
  const std::string* token_of(int32_t id) const {
    if (const AddedToken* token = added.find_by_id(id)) return &token->content;
    return model.id_to_token(id);
  }
};

namespace {

// A JSON document named by where it came from.
struct JsonDocument {
  nlohmann::json value;
  std::string source;
};

JsonDocument parse_document(const std::string& text, const std::string& source, uint64_t max_bytes) {
  try {
    return {json_input::parse_bounded_json(text, source, {max_bytes, json_input::kMaxJsonDepth}), source};
  } catch (const json_input::JsonLimitError& error) {
    throw TokenizerError(error.what());
  } catch (const nlohmann::json::exception& error) {  // parse_error, or out_of_range for a number too large
    throw TokenizerError(source + ": invalid JSON: " + error.what());
  }
}

// The file's text, refused past `max_bytes` before more is read.
std::optional<std::string> read_optional_file(const std::filesystem::path& path, uint64_t max_bytes) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizerError(path.string() + ": cannot open for reading");
  std::string content;
  try {
    content = json_input::read_bounded_text(in, path.string(), max_bytes);
  } catch (const json_input::JsonLimitError& limit) {
    throw TokenizerError(limit.what());
  }
  if (in.bad()) throw TokenizerError(path.string() + ": read error");
  return content;
}

// The id named by `token_key` ("bos_token") in tokenizer_config.json, a string or an
// object {"content": ...}; else `id_key` ("bos_token_id") in config.json, an integer or a
// list whose first element is used; else none.
std::optional<int32_t> resolve_special_token(const Tokenizer::Impl& impl, const JsonDocument& tokenizer_config,
                                             const JsonDocument* model_config, const char* token_key, const char* id_key) {
  const JsonContext config_context{tokenizer_config.source, token_key};
  if (const auto it = tokenizer_config.value.find(token_key); it != tokenizer_config.value.end() && !it->is_null()) {
    std::string content;
    if (it->is_string()) {
      content = it->get<std::string>();
    } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
      content = (*it)["content"].get<std::string>();
    } else {
      throw_tokenizer_error(config_context, "must be a string or an object with a \"content\" string");
    }
    const auto id = impl.token_to_id(content);
    if (!id) throw_tokenizer_error(config_context, "token \"" + content + "\" is not in the vocabulary of " + impl.source);
    return id;
  }
  if (model_config == nullptr) return std::nullopt;
  const auto it = model_config->value.find(id_key);
  if (it == model_config->value.end() || it->is_null()) return std::nullopt;
  const JsonContext id_context{model_config->source, id_key};
  const nlohmann::json& value = it->is_array() && !it->empty() ? it->front() : *it;
  if (!value.is_number_integer() || value.get<int64_t>() < 0 || static_cast<uint64_t>(value.get<int64_t>()) >= impl.vocab_size) {
    throw_tokenizer_error(id_context, "must be a token id below the vocabulary size " + std::to_string(impl.vocab_size) +
                                          ", found " + it->dump());
  }
  return static_cast<int32_t>(value.get<int64_t>());
}

std::unique_ptr<Tokenizer::Impl> build(const JsonDocument& tokenizer_json, const JsonDocument& tokenizer_config,
                                       const JsonDocument* model_config) {
  const JsonContext context{tokenizer_json.source, ""};
  const nlohmann::json& root = tokenizer_json.value;
  if (!root.is_object()) throw_tokenizer_error(context, "expected a JSON object at the top level");
  if (!tokenizer_config.value.is_object()) {
    throw_tokenizer_error({tokenizer_config.source, ""}, "expected a JSON object at the top level");
  }
  if (model_config != nullptr && !model_config->value.is_object()) {
    throw_tokenizer_error({model_config->source, ""}, "expected a JSON object at the top level");
  }

  auto impl = std::make_unique<Tokenizer::Impl>();
  impl->source = tokenizer_json.source;
  impl->model = BpeModel::from_json(require_field(root, "model", context), context);
  const auto component = [&](const char* key) -> const nlohmann::json* {
    const auto it = root.find(key);
    return it == root.end() || it->is_null() ? nullptr : &*it;
  };
  if (const nlohmann::json* node = component("normalizer")) impl->normalizer = Normalizer::from_json(*node, context);
  if (const nlohmann::json* node = component("pre_tokenizer")) impl->pre_tokenizer = PreTokenizer::from_json(*node, context);
  if (const nlohmann::json* node = component("decoder")) impl->decoder = Decoder::from_json(*node, context);
  impl->added = AddedVocabulary::from_json(component("added_tokens"), impl->normalizer ? &*impl->normalizer : nullptr, context);
  impl->vocab_size = std::max(impl->model.id_limit(), impl->added.id_limit());
  impl->bos = resolve_special_token(*impl, tokenizer_config, model_config, "bos_token", "bos_token_id");
  impl->eos = resolve_special_token(*impl, tokenizer_config, model_config, "eos_token", "eos_token_id");
  return impl;
}

}  // namespace

Tokenizer Tokenizer::from_dir(const std::filesystem::path& model_dir) {
  const std::filesystem::path tokenizer_path = model_dir / "tokenizer.json";
  const std::optional<std::string> tokenizer_text =
      read_optional_file(tokenizer_path, json_input::kMaxTokenizerJsonBytes);
  if (!tokenizer_text) throw TokenizerError(tokenizer_path.string() + ": file not found");
  const std::filesystem::path config_path = model_dir / "tokenizer_config.json";
  const std::filesystem::path model_config_path = model_dir / "config.json";
  const std::optional<std::string> config_text = read_optional_file(config_path, json_input::kMaxConfigJsonBytes);
  const std::optional<std::string> model_config_text =
      read_optional_file(model_config_path, json_input::kMaxConfigJsonBytes);

  const JsonDocument tokenizer_json =
      parse_document(*tokenizer_text, tokenizer_path.string(), json_input::kMaxTokenizerJsonBytes);
  const JsonDocument tokenizer_config =
      parse_document(config_text.value_or("{}"), config_path.string(), json_input::kMaxConfigJsonBytes);
  std::optional<JsonDocument> model_config;
  if (model_config_text) {
    model_config = parse_document(*model_config_text, model_config_path.string(), json_input::kMaxConfigJsonBytes);
  }
  return Tokenizer(build(tokenizer_json, tokenizer_config, model_config ? &*model_config : nullptr));
}

Tokenizer Tokenizer::from_json(const std::string& tokenizer_json, const std::string& tokenizer_config_json,
                               const std::string& source) {
  const JsonDocument tokenizer = parse_document(tokenizer_json, source, json_input::kMaxTokenizerJsonBytes);
  const JsonDocument config =
      parse_document(tokenizer_config_json, source + " (tokenizer_config)", json_input::kMaxConfigJsonBytes);
  return Tokenizer(build(tokenizer, config, nullptr));
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  if (const size_t bad = find_invalid_utf8(text); bad != std::string_view::npos) {
    throw TokenizerError(impl_->source + ": text to encode is not valid UTF-8 (byte offset " + std::to_string(bad) + ")");
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 16);
  BpeModel::WordCache cache;
  const auto encode_piece = [&](std::string text_piece, bool at_input_start) {
    if (!impl_->pre_tokenizer) {
      impl_->model.encode_word(text_piece, ids, &cache);
      return;
    }
    for (const PreToken& word : impl_->pre_tokenizer->split({std::move(text_piece), at_input_start})) {
      impl_->model.encode_word(word.text, ids, &cache);
    }
  };
  for (TextPiece& raw : impl_->added.split_raw(text)) {
    if (raw.id) {
      ids.push_back(*raw.id);
      continue;
    }
    std::string normalized = impl_->normalizer ? impl_->normalizer->apply(std::move(raw.text)) : std::move(raw.text);
    for (TextPiece& piece : impl_->added.split_normalized(normalized)) {
      if (piece.id) {
        ids.push_back(*piece.id);
      } else {
        encode_piece(std::move(piece.text), raw.offset == 0 && piece.offset == 0);
      }
    }
  }
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    if (skip_special_tokens) {
      if (const AddedToken* added = impl_->added.find_by_id(id); added != nullptr && added->special) continue;
    }
    const std::string* token = impl_->token_of(id);
    if (token == nullptr) {
      throw TokenizerError(impl_->source + ": cannot decode token id " + std::to_string(id) + ": not in the vocabulary (size " +
                           std::to_string(impl_->vocab_size) + ")");
    }
    tokens.push_back(*token);
  }
  if (impl_->decoder) return impl_->decoder->decode(std::move(tokens));
  // Without a decoder the tokens are joined with spaces.
  std::string text;
  for (size_t i = 0; i < tokens.size(); ++i) text += (i > 0 ? " " : "") + tokens[i];
  return text;
}

std::optional<int32_t> Tokenizer::bos_id() const { return impl_->bos; }
std::optional<int32_t> Tokenizer::eos_id() const { return impl_->eos; }
size_t Tokenizer::vocab_size() const { return impl_->vocab_size; }
std::optional<int32_t> Tokenizer::token_to_id(const std::string& token) const { return impl_->token_to_id(token); }

std::string Tokenizer::id_to_token(int32_t id) const {
  const std::string* token = impl_->token_of(id);
  if (token == nullptr) {
    throw TokenizerError(impl_->source + ": token id " + std::to_string(id) + " is not in the vocabulary (size " +
                         std::to_string(impl_->vocab_size) + ")");
  }
  return *token;
}

}  // namespace dcomp::tok
