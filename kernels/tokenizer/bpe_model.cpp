// reference: Sennrich et al., "Neural Machine Translation of Rare Words with Subword
// Units" (ACL 2016) for merge-rank BPE; huggingface/tokenizers models/bpe/model.rs and
// models/bpe/word.rs for the tokenizer.json fields (byte_fallback, unk_token, fuse_unk,
// ignore_merges, continuing_subword_prefix, end_of_word_suffix).
#include "kernels/tokenizer/bpe_model.hpp"

#include <cstdio>
#include <functional>
#include <limits>
#include <queue>

#include "kernels/tokenizer/tokenizer.hpp"
#include "kernels/tokenizer/utf8.hpp"

namespace dcomp::tok {
namespace {

std::optional<std::string> optional_string(const nlohmann::json& model, const char* key, const JsonContext& context) {
  const auto it = model.find(key);
  if (it == model.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw_tokenizer_error(context, std::string("field \"") + key + "\" must be a string or null");
  return it->get<std::string>();
}

// One merge rule as its two tokens, from either "a b" or ["a", "b"].
std::pair<std::string, std::string> parse_merge(const nlohmann::json& entry, size_t index, const JsonContext& context) {
  const std::string where = "merges[" + std::to_string(index) + "]";
  if (entry.is_string()) {
    const std::string text = entry.get<std::string>();
    const size_t space = text.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 >= text.size() ||
        text.find(' ', space + 1) != std::string::npos) {
      throw_tokenizer_error(context, where + " \"" + text + "\" is not two tokens separated by one space");
    }
    return {text.substr(0, space), text.substr(space + 1)};
  }
  if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
    return {entry[0].get<std::string>(), entry[1].get<std::string>()};
  }
  throw_tokenizer_error(context, where + " must be a string \"a b\" or a list of two strings");
}

struct Node {
  int32_t id;
  int32_t prev;  // -1 at the start
  int32_t next;  // -1 at the end
  bool merged_away;
};

// A possible merge of the pair starting at node `pos`; stale once either side changed.
struct Candidate {
  int32_t rank;
  int32_t pos;
  int32_t left_id;
  int32_t right_id;
  int32_t new_id;
  bool operator>(const Candidate& other) const {
    return rank != other.rank ? rank > other.rank : pos > other.pos;
  }
};

// The model's "type" is "BPE" (or absent with "merges" present), and its dropout null or 0.
void require_bpe_model_type(const nlohmann::json& model, const JsonContext& context) {
  if (const auto type = model.find("type"); type != model.end()) {
    if (!type->is_string() || type->get<std::string>() != "BPE") {
      throw_tokenizer_error(context, "unsupported model type '" + (type->is_string() ? type->get<std::string>() : type->dump()) +
                                         "' (only BPE is supported)");
    }
  } else if (!model.contains("merges")) {
    throw_tokenizer_error(context, "no \"type\" and no \"merges\": not a BPE model (only BPE is supported)");
  }
  if (const auto dropout = model.find("dropout");
      dropout != model.end() && !dropout->is_null() && !(dropout->is_number() && dropout->get<double>() == 0.0)) {
    throw_tokenizer_error(context, "BPE dropout " + dropout->dump() + " is not supported (inference needs it null)");
  }
}

// The "vocab" object (token -> id) into the token -> id map and the id -> token table;
// ids are non-negative 32-bit integers, not far beyond the entry count, and unique.
void read_bpe_vocab(const nlohmann::json& model, const JsonContext& context,
                    std::unordered_map<std::string, int32_t>& vocab, std::vector<std::string>& id_to_token,
                    std::vector<bool>& id_present) {
  const nlohmann::json& entries = require_field(model, "vocab", context);
  if (!entries.is_object()) throw_tokenizer_error(context, "\"vocab\" must be an object of token -> id");
  vocab.reserve(entries.size());
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      throw_tokenizer_error(context, "vocab entry \"" + it.key() + "\" has id " + it.value().dump() +
                                         ", expected a non-negative 32-bit integer");
    }
    const auto id = static_cast<int32_t>(it.value().get<int64_t>());
    if (static_cast<size_t>(id) >= 4 * entries.size() + 65536) {  // guards the id -> token table against absurd ids
      throw_tokenizer_error(context, "vocab entry \"" + it.key() + "\" has id " + std::to_string(id) +
                                         ", far beyond the " + std::to_string(entries.size()) + " vocab entries");
    }
    if (static_cast<size_t>(id) >= id_to_token.size()) {
      id_to_token.resize(id + 1);
      id_present.resize(id + 1, false);
    }
    if (id_present[id]) {
      throw_tokenizer_error(context, "vocab ids collide: \"" + id_to_token[id] + "\" and \"" + it.key() +
                                         "\" both have id " + std::to_string(id));
    }
    id_present[id] = true;
    id_to_token[id] = it.key();
    vocab.emplace(it.key(), id);
  }
}

// The id of each byte's fallback token "<0xXX>" [256], -1 where the vocab has none.
std::vector<int32_t> byte_fallback_token_ids(const std::unordered_map<std::string, int32_t>& vocab) {
  std::vector<int32_t> ids(256, -1);
  for (unsigned byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", byte);
    if (const auto it = vocab.find(name); it != vocab.end()) ids[byte] = it->second;
  }
  return ids;
}

}  // namespace

BpeModel BpeModel::from_json(const nlohmann::json& model, const JsonContext& file_context) {
  const JsonContext context = file_context.with_component("model");
  if (!model.is_object()) throw_tokenizer_error(context, "must be a JSON object");
  require_bpe_model_type(model, context);

  BpeModel bpe;
  bpe.fuse_unk_ = optional_bool(model, "fuse_unk", false, context);
  bpe.byte_fallback_ = optional_bool(model, "byte_fallback", false, context);
  bpe.ignore_merges_ = optional_bool(model, "ignore_merges", false, context);
  bpe.continuing_subword_prefix_ = optional_string(model, "continuing_subword_prefix", context).value_or("");
  bpe.end_of_word_suffix_ = optional_string(model, "end_of_word_suffix", context).value_or("");

  read_bpe_vocab(model, context, bpe.vocab_, bpe.id_to_token_, bpe.id_present_);

  const nlohmann::json& merges = require_field(model, "merges", context);
  if (!merges.is_array()) throw_tokenizer_error(context, "\"merges\" must be a list");
  bpe.merges_.reserve(merges.size());
  const size_t prefix_length = bpe.continuing_subword_prefix_.size();
  for (size_t index = 0; index < merges.size(); ++index) {
    const auto [left, right] = parse_merge(merges[index], index, context);
    const auto require_id = [&](const std::string& token) {
      const auto it = bpe.vocab_.find(token);
      if (it == bpe.vocab_.end()) {
        throw_tokenizer_error(context, "merges[" + std::to_string(index) + "] uses \"" + token + "\", which is not in the vocab");
      }
      return it->second;
    };
    const bool right_has_prefix = prefix_length > 0 && right.compare(0, prefix_length, bpe.continuing_subword_prefix_) == 0;
    const std::string merged = left + (right_has_prefix ? right.substr(prefix_length) : right);
    const MergeResult result{static_cast<int32_t>(index), require_id(merged)};
    bpe.merges_.emplace(pair_key(require_id(left), require_id(right)), result);  // the first rule for a pair wins
  }

  if (const auto unk = optional_string(model, "unk_token", context)) {
    const auto it = bpe.vocab_.find(*unk);
    if (it == bpe.vocab_.end()) throw_tokenizer_error(context, "unk_token \"" + *unk + "\" is not in the vocab");
    bpe.unk_id_ = it->second;
  }

  bpe.byte_token_ids_ = byte_fallback_token_ids(bpe.vocab_);
  return bpe;
}

std::optional<int32_t> BpeModel::token_to_id(const std::string& token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() || !id_present_[id]) return nullptr;
  return &id_to_token_[id];
}

std::vector<int32_t> BpeModel::initial_symbols(std::string_view word) const {
  std::vector<int32_t> symbols;
  symbols.reserve(word.size());
  bool unk_pending = false;
  const auto flush_unk = [&] {
    if (unk_pending) symbols.push_back(*unk_id_);
    unk_pending = false;
  };
  const bool affixes = !continuing_subword_prefix_.empty() || !end_of_word_suffix_.empty();
  std::string key;
  size_t pos = 0;
  while (pos < word.size()) {
    const size_t length = utf8_sequence_length(word, pos);
    const std::string_view character = word.substr(pos, length);
    if (affixes) {
      key.assign(pos > 0 ? continuing_subword_prefix_ : std::string());
      key.append(character);
      if (pos + length == word.size()) key += end_of_word_suffix_;
    } else {
      key.assign(character);
    }
    pos += length;

    if (const auto it = vocab_.find(key); it != vocab_.end()) {
      flush_unk();
      symbols.push_back(it->second);
      continue;
    }
    if (byte_fallback_) {
      bool all_bytes_known = true;
      for (const char byte : key) all_bytes_known = all_bytes_known && byte_token_ids_[static_cast<unsigned char>(byte)] >= 0;
      if (all_bytes_known) {
        flush_unk();
        for (const char byte : key) symbols.push_back(byte_token_ids_[static_cast<unsigned char>(byte)]);
        continue;
      }
    }
    // Unknown character: the unknown token (consecutive ones fused when fuse_unk), or
    // nothing at all when the model has no unknown token.
    if (!unk_id_) continue;
    if (unk_pending && !fuse_unk_) flush_unk();
    unk_pending = true;
  }
  flush_unk();
  return symbols;
}

void BpeModel::merge_symbols(std::vector<int32_t>& symbols) const {
  if (symbols.size() < 2 || merges_.empty()) return;
  const auto count = static_cast<int32_t>(symbols.size());
  std::vector<Node> nodes(symbols.size());
  for (int32_t i = 0; i < count; ++i) nodes[i] = {symbols[i], i - 1, i + 1 < count ? i + 1 : -1, false};

  // The mergeable pair starting at node `pos`, if any.
  const auto candidate_at = [&](int32_t pos) -> std::optional<Candidate> {
    const Node& left = nodes[pos];
    if (left.next < 0) return std::nullopt;
    const int32_t right_id = nodes[left.next].id;
    const auto it = merges_.find(pair_key(left.id, right_id));
    if (it == merges_.end()) return std::nullopt;
    return Candidate{it->second.rank, pos, left.id, right_id, it->second.new_id};
  };
  std::vector<Candidate> initial;
  for (int32_t i = 0; i + 1 < count; ++i) {
    if (const auto candidate = candidate_at(i)) initial.push_back(*candidate);
  }
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue(std::greater<Candidate>(),
                                                                                        std::move(initial));
  const auto consider = [&](int32_t pos) {
    if (const auto candidate = candidate_at(pos)) queue.push(*candidate);
  };

  while (!queue.empty()) {
    const Candidate candidate = queue.top();
    queue.pop();
    Node& left = nodes[candidate.pos];
    if (left.merged_away || left.id != candidate.left_id || left.next < 0) continue;
    Node& right = nodes[left.next];
    if (right.id != candidate.right_id) continue;  // stale: a side was merged since
    left.id = candidate.new_id;
    right.merged_away = true;
    left.next = right.next;
    if (right.next >= 0) nodes[right.next].prev = candidate.pos;
    if (left.prev >= 0) consider(left.prev);
    consider(candidate.pos);
  }

  symbols.clear();
  for (int32_t i = 0; i >= 0; i = nodes[i].next) symbols.push_back(nodes[i].id);  // node 0 is never merged away
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out, WordCache* cache) const {
  if (word.empty()) return;
  const bool cacheable = cache != nullptr && word.size() <= kMaxCachedWordBytes;
  if (cacheable) {
    if (const auto it = cache->find(std::string(word)); it != cache->end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  const auto whole = ignore_merges_ ? vocab_.find(std::string(word)) : vocab_.end();
  if (whole != vocab_.end()) {
    ids.push_back(whole->second);
  } else {
    ids = initial_symbols(word);
    merge_symbols(ids);
  }
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) cache->emplace(std::string(word), std::move(ids));
}

}  // namespace dcomp::tok
