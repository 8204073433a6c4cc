// A deliberately plain BPE encoder for SentencePiece-style tokenizer.json files, used
// as the independent reference in tests: split the normalized text into characters,
// then repeatedly merge the adjacent pair with the lowest merge rank (leftmost on ties)
// until no pair has a rank. No heap, no linked list, no cache.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dcomp::testing {

class ReferenceBpe {
 public:
  /// Reads model.vocab, model.merges (either form), model.unk_token and model.fuse_unk.
  /// Only the SentencePiece normalizer (Prepend "▁", Replace " " -> "▁") and no
  /// pre-tokenizer are understood; anything else throws.
  explicit ReferenceBpe(const nlohmann::json& tokenizer) {
    const nlohmann::json& model = tokenizer.at("model");
    for (auto it = model.at("vocab").begin(); it != model.at("vocab").end(); ++it) vocab_[it.key()] = it.value().get<int32_t>();
    const nlohmann::json& merges = model.at("merges");
    for (size_t rank = 0; rank < merges.size(); ++rank) {
      std::string left, right;
      if (merges[rank].is_string()) {
        const std::string text = merges[rank].get<std::string>();
        left = text.substr(0, text.find(' '));
        right = text.substr(text.find(' ') + 1);
      } else {
        left = merges[rank][0].get<std::string>();
        right = merges[rank][1].get<std::string>();
      }
      ranks_.emplace(std::make_pair(left, right), static_cast<int>(rank));  // first rule wins
    }
    if (model.contains("unk_token") && model.at("unk_token").is_string()) unk_ = model.at("unk_token").get<std::string>();
    fuse_unk_ = model.value("fuse_unk", false);
    byte_fallback_ = model.value("byte_fallback", false);

    const nlohmann::json expected_normalizer = nlohmann::json::parse(
        R"({"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},)"
        R"({"type":"Replace","pattern":{"String":" "},"content":"▁"}]})");
    if (tokenizer.at("normalizer") != expected_normalizer || !tokenizer.at("pre_tokenizer").is_null()) {
      throw std::runtime_error("ReferenceBpe understands only the SentencePiece-style normalizer");
    }
  }

  std::vector<int32_t> encode(const std::string& text) const {
    if (text.empty()) return {};
    // Normalize: a leading "▁", and every space as "▁".
    std::string normalized = "\xE2\x96\x81";
    for (const char c : text) normalized += (c == ' ') ? std::string("\xE2\x96\x81") : std::string(1, c);

    // Characters; unknown ones become byte tokens or the unknown token.
    std::vector<std::string> symbols;
    bool previous_unknown = false;
    for (size_t pos = 0; pos < normalized.size();) {
      const auto lead = static_cast<unsigned char>(normalized[pos]);
      const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
      const std::string character = normalized.substr(pos, length);
      pos += length;
      if (vocab_.count(character) != 0) {
        symbols.push_back(character);
        previous_unknown = false;
        continue;
      }
      std::vector<std::string> byte_tokens;
      for (const char byte : character) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", static_cast<unsigned char>(byte));
        byte_tokens.push_back(name);
      }
      bool bytes_known = byte_fallback_;
      for (const std::string& token : byte_tokens) bytes_known = bytes_known && vocab_.count(token) != 0;
      if (bytes_known) {
        symbols.insert(symbols.end(), byte_tokens.begin(), byte_tokens.end());
        previous_unknown = false;
        continue;
      }
      if (!(fuse_unk_ && previous_unknown)) symbols.push_back(unk_);
      previous_unknown = true;
    }

    // Merge the lowest-ranked adjacent pair until none is left.
    std::vector<int> pair_rank(symbols.size(), -1);  // rank of (symbols[i], symbols[i+1]), -1 = none
    const auto rank_at = [&](size_t i) {
      const auto it = ranks_.find({symbols[i], symbols[i + 1]});
      return it == ranks_.end() ? -1 : it->second;
    };
    for (size_t i = 0; i + 1 < symbols.size(); ++i) pair_rank[i] = rank_at(i);
    while (true) {
      size_t best = symbols.size();
      for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        if (pair_rank[i] >= 0 && (best == symbols.size() || pair_rank[i] < pair_rank[best])) best = i;
      }
      if (best == symbols.size()) break;
      symbols[best] += symbols[best + 1];
      symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best) + 1);
      pair_rank.erase(pair_rank.begin() + static_cast<std::ptrdiff_t>(best) + 1);
      if (best + 1 < symbols.size()) pair_rank[best] = rank_at(best);
      else pair_rank[best] = -1;
      if (best > 0) pair_rank[best - 1] = rank_at(best - 1);
    }

    std::vector<int32_t> ids;
    for (const std::string& symbol : symbols) ids.push_back(vocab_.at(symbol));
    return ids;
  }

 private:
  std::unordered_map<std::string, int32_t> vocab_;
  std::map<std::pair<std::string, std::string>, int> ranks_;
  std::string unk_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
};

}  // namespace dcomp::testing
