// Tokenizer from Hugging Face tokenizer.json (+ tokenizer_config.json): BPE of
// the SentencePiece kind (metaspace "▁", byte fallback) and of the byte-level
// GPT-2 kind (ByteLevel pre-tokenizer with its split regex), with added and
// special tokens.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dcomp::tok {

/// Bad or unsupported tokenizer files; the message names the file and the problem.
class TokenizerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Tokenizer {
 public:
  /// Reads tokenizer.json, and tokenizer_config.json / config.json when present
  /// (for bos/eos tokens), from a model folder.
  static Tokenizer from_dir(const std::filesystem::path& model_dir);
  /// From JSON texts (tests); `source` names them in error messages.
  static Tokenizer from_json(const std::string& tokenizer_json, const std::string& tokenizer_config_json = "{}",
                             const std::string& source = "tokenizer.json");

  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  /// Text to ids, without BOS/EOS (callers add BOS explicitly).
  std::vector<int32_t> encode(std::string_view text) const;
  /// Ids to text; special tokens are dropped when skip_special_tokens.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;

  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  size_t vocab_size() const;
  std::optional<int32_t> token_to_id(const std::string& token) const;
  std::string id_to_token(int32_t id) const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dcomp::tok
