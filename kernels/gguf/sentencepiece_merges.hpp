// The BPE merges of a SentencePiece vocabulary, rebuilt from its pieces and scores as
// Hugging Face's converter does: for each piece, every split into two vocabulary pieces.
//
// Time is linear in the vocabulary's bytes plus the merges written: each piece's
// prefixes and suffixes are looked up by rolling hashes (no substring is copied
// unless it is a vocabulary piece). The merges themselves can grow faster than the
// vocabulary (a piece of n bytes whose prefixes are all pieces has n - 1 merges of
// n bytes each), so their count and text are bounded (kMaxMerges, kMaxMergeBytes).
//
// reference: transformers/convert_slow_tokenizer.py (SentencePieceExtractor.extract)
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace dcomp::gguf {

/// Far above real vocabularies (Gemma's 256k pieces give about 514k merges).
inline constexpr uint64_t kMaxMerges = uint64_t{4} << 20;
inline constexpr uint64_t kMaxMergeBytes = uint64_t{256} << 20;

/// The merges as [left, right] pairs: by score (highest first), then the length of the
/// left and the right half in code points (longest first), ties by the halves' ids.
/// `vocab` maps each piece to its id (the last id of a repeated piece); `fail` is
/// called (and must throw) when the merges exceed the bounds above.
nlohmann::ordered_json sentencepiece_merges(const std::vector<std::string>& tokens, const std::vector<double>& scores,
                                            const std::unordered_map<std::string, int64_t>& vocab,
                                            const std::function<void(const std::string&)>& fail);

}  // namespace dcomp::gguf
