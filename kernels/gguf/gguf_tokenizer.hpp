// The Hugging Face tokenizer files (tokenizer.json, tokenizer_config.json) of a GGUF
// file's embedded vocabulary.
//
// tokenizer.ggml.model "llama" (SentencePiece BPE with byte fallback, as llama.cpp stores
// Llama-2 and Mistral vocabularies): a BPE model whose merges are rebuilt from the piece
// scores the way Hugging Face's SentencePiece converter does (every split of a piece into
// two pieces of the vocabulary, ordered by the merged piece's score, then by the lengths
// of the halves), the dummy-prefix normalizer when add_space_prefix, byte fallback.
//
// tokenizer.ggml.model "gpt2" (byte-level BPE): the stored merges, with the pre-tokenizer
// that tokenizer.ggml.pre names, as llama.cpp splits text for it:
//   default, gpt2      ByteLevel with the GPT-2 regex
//   smollm             Digits (each digit alone), then ByteLevel with the GPT-2 regex
//   llama-bpe (Llama-3) Split on the Llama-3 regex, then ByteLevel without a regex; merges
//                      ignored for words in the vocabulary (ignore_merges)
//   qwen2              Split on the Qwen2 regex, then ByteLevel without a regex
// Any other model or pre-tokenizer is refused by name.
//
// Token types (tokenizer.ggml.token_type): 2 unknown and 3 control become special added
// tokens, 4 user-defined plain added tokens, 1 normal and 6 byte stay in the vocabulary.
// reference: transformers/convert_slow_tokenizer.py (SentencePieceExtractor.extract merges);
// llama.cpp src/llama-vocab.cpp (the pre-tokenizer regexes per LLAMA_VOCAB_PRE_TYPE)
#pragma once

#include <nlohmann/json.hpp>

#include "kernels/gguf/gguf_file.hpp"

namespace dcomp::gguf {

/// The longest token accepted, in bytes (real vocabularies' longest tokens are far shorter).
inline constexpr size_t kMaxTokenBytes = 1024;

struct HuggingFaceTokenizer {
  nlohmann::ordered_json tokenizer;         // tokenizer.json
  nlohmann::ordered_json tokenizer_config;  // tokenizer_config.json
};

/// Throws GgufError naming the file and the metadata key at fault.
HuggingFaceTokenizer tokenizer_from_gguf(const GgufFile& file);

/// The id of a special token from its metadata key, or -1 when absent or unset
/// (llama.cpp writes 0xFFFFFFFF for "none").
int64_t gguf_token_id(const GgufFile& file, const std::string& key);

}  // namespace dcomp::gguf
