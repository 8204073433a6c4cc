// reference: Frantar et al., "GPTQ" (ICLR 2023) section 5 (calibration data: random
// 2048-token segments of a corpus); llm-compressor datasets/utils.py (512 calibration
// samples by default, shuffled before they are taken).
#include "kernels/data/dataset.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <string>

#include "kernels/data/dataset_rows.hpp"
#include "kernels/data/shuffle.hpp"
#include "kernels/data/text_blocks.hpp"

namespace dcomp::data {
namespace {

// tokenizer.encode with tokenizer errors (such as invalid UTF-8) reported against the file.
std::vector<int32_t> encode_or_throw(const tok::Tokenizer& tokenizer, const std::string& text,
                                     const std::filesystem::path& file, size_t line = 0) {
  try {
    return tokenizer.encode(text);
  } catch (const tok::TokenizerError& error) {
    const std::string where = line > 0 ? ": line " + std::to_string(line) : std::string();
    throw DatasetError(file.string() + where + ": " + error.what());
  }
}

// Consecutive full windows of the token stream, each BOS (when given) + `text_tokens`
// tokens; a shorter tail is dropped.
std::vector<std::vector<int32_t>> full_windows(const std::vector<int32_t>& tokens, std::optional<int32_t> bos,
                                               size_t text_tokens) {
  std::vector<std::vector<int32_t>> windows;
  for (size_t start = 0; start + text_tokens <= tokens.size(); start += text_tokens) {
    std::vector<int32_t> window;
    window.reserve(text_tokens + 1);
    if (bos) window.push_back(*bos);
    window.insert(window.end(), tokens.begin() + static_cast<std::ptrdiff_t>(start),
                  tokens.begin() + static_cast<std::ptrdiff_t>(start + text_tokens));
    windows.push_back(std::move(window));
  }
  return windows;
}

// The tokens of a prefix of `text` that holds more than `needed` tokens (all of it when
// it has no more): prefixes of 64 bytes a token, growing fourfold, cut at a safe place,
// so a long row costs about what its sample needs.
std::vector<int32_t> encode_prefix(const tok::Tokenizer& tokenizer, const std::string& text, size_t needed,
                                   const std::filesystem::path& file, size_t line) {
  for (uint64_t limit = calibration_block_bytes(needed);; limit *= 4) {
    if (text.size() <= limit) return encode_or_throw(tokenizer, text, file, line);
    const size_t cut = safe_cut(text, static_cast<size_t>(limit));
    std::vector<int32_t> tokens = encode_or_throw(tokenizer, text.substr(0, cut), file, line);
    if (tokens.size() > needed || cut == text.size()) return tokens;
  }
}

// Plain text, read in blocks (TextBlockFile): the blocks are visited in a shuffled
// order; each is tokenized on its own and cut into full windows, of which
// ceil(num_samples / blocks) are taken in a shuffled order (seed + block·φ, so a file of
// one block is shuffled with `seed` itself); when the pass leaves samples missing, the
// windows passed over fill them, in visiting order. Only the visited blocks are read.
std::vector<std::vector<int32_t>> sample_plain_text(const std::filesystem::path& file, const tok::Tokenizer& tokenizer,
                                                    const SampleOptions& options, std::optional<int32_t> bos,
                                                    size_t text_tokens) {
  const TextBlockFile blocks(file, calibration_block_bytes(options.max_seq_length));
  const std::vector<size_t> block_order = visiting_order(blocks.count(), options.seed, options.shuffle);
  const size_t per_block = (options.num_samples + blocks.count() - 1) / blocks.count();
  std::vector<std::vector<int32_t>> samples;
  std::vector<std::vector<int32_t>> passed_over;  // at most num_samples kept
  std::vector<int32_t> first_partial;             // for a text without one full window
  for (const size_t block : block_order) {
    if (samples.size() >= options.num_samples) break;
    const std::vector<int32_t> tokens = encode_or_throw(tokenizer, blocks.read(block), file);
    std::vector<std::vector<int32_t>> windows = full_windows(tokens, bos, text_tokens);
    if (windows.empty() && first_partial.empty()) first_partial = tokens;
    const uint64_t block_seed = options.seed + static_cast<uint64_t>(block) * 0x9E3779B97F4A7C15ull;
    const std::vector<size_t> window_order = visiting_order(windows.size(), block_seed, options.shuffle);
    for (size_t k = 0; k < window_order.size(); ++k) {
      std::vector<int32_t>& window = windows[window_order[k]];
      if (k < per_block && samples.size() < options.num_samples) {
        samples.push_back(std::move(window));
      } else if (passed_over.size() < options.num_samples) {
        passed_over.push_back(std::move(window));
      }
    }
  }
  for (auto& window : passed_over) {
    if (samples.size() >= options.num_samples) break;
    samples.push_back(std::move(window));
  }
  if (samples.empty() && !first_partial.empty()) {
    std::vector<int32_t> only;
    if (bos) only.push_back(*bos);
    only.insert(only.end(), first_partial.begin(), first_partial.end());
    samples.push_back(std::move(only));
  }
  return samples;
}

// JSON Lines: every row is parsed (so a malformed line is reported wherever it is),
// then the rows are visited in a shuffled order and tokenized only until num_samples
// usable ones are found.
// Without a tokenizer (null), rows of text are refused.
std::vector<std::vector<int32_t>> sample_json_lines(const std::filesystem::path& file, const tok::Tokenizer* tokenizer,
                                                    int64_t vocab_size, const SampleOptions& options,
                                                    const std::function<std::optional<int32_t>()>& bos_for_text) {
  std::vector<DatasetRow> rows = parse_json_lines(read_dataset_file(file), file, vocab_size);
  const size_t bos_slots = options.add_bos ? 1 : 0;
  std::vector<std::vector<int32_t>> samples;
  for (const size_t index : visiting_order(rows.size(), options.seed, options.shuffle)) {
    if (samples.size() >= options.num_samples) break;
    DatasetRow& row = rows[index];
    std::vector<int32_t> sample;
    if (row.has_input_ids) {
      sample = std::move(row.input_ids);
    } else if (!row.text.empty()) {
      if (!tokenizer) {
        throw DatasetError(file.string() + ": line " + std::to_string(row.line) +
                           ": a \"text\" row needs the model's tokenizer.json, which the model folder lacks; "
                           "give \"input_ids\" rows");
      }
      if (const auto bos = bos_for_text()) sample.push_back(*bos);
      const std::vector<int32_t> tokens =
          encode_prefix(*tokenizer, row.text, options.max_seq_length - sample.size(), file, row.line);
      sample.insert(sample.end(), tokens.begin(), tokens.end());
    }
    if (sample.size() > options.max_seq_length) sample.resize(options.max_seq_length);
    const bool usable = row.has_input_ids ? !sample.empty() : sample.size() > bos_slots;
    if (usable) samples.push_back(std::move(sample));
  }
  return samples;
}

}  // namespace

std::vector<std::vector<int32_t>> load_samples(const std::filesystem::path& file, const tok::Tokenizer& tokenizer,
                                               const SampleOptions& options) {
  const size_t bos_slots = options.add_bos ? 1 : 0;
  if (options.max_seq_length <= bos_slots) {
    throw DatasetError(file.string() + ": max_seq_length " + std::to_string(options.max_seq_length) +
                       " leaves no room for text tokens");
  }
  // BOS is needed by text samples only; "input_ids" rows are used as given.
  const std::function<std::optional<int32_t>()> bos_for_text = [&]() -> std::optional<int32_t> {
    if (!options.add_bos) return std::nullopt;
    const std::optional<int32_t> bos = tokenizer.bos_id();
    if (!bos) throw DatasetError(file.string() + ": add_bos is set but the tokenizer has no BOS token");
    return bos;
  };
  std::vector<std::vector<int32_t>> samples =
      is_json_lines(file) ? sample_json_lines(file, &tokenizer, tokenizer.vocab_size(), options, bos_for_text)
                          : sample_plain_text(file, tokenizer, options, bos_for_text(), options.max_seq_length - bos_slots);
  if (samples.empty()) throw DatasetError(file.string() + ": no usable rows (nothing in the file yields a token)");
  return samples;
}

std::vector<std::vector<int32_t>> load_id_samples(const std::filesystem::path& file, int64_t vocab_size,
                                                  const SampleOptions& options) {
  if (!is_json_lines(file)) {
    throw DatasetError(file.string() + ": plain text needs the model's tokenizer.json, which the model folder "
                       "lacks; give JSON Lines with \"input_ids\" rows");
  }
  const auto no_bos = []() -> std::optional<int32_t> { return std::nullopt; };
  auto samples = sample_json_lines(file, nullptr, vocab_size, options, no_bos);
  if (samples.empty()) throw DatasetError(file.string() + ": no usable rows (nothing in the file yields a token)");
  return samples;
}

std::vector<int32_t> load_token_stream(const std::filesystem::path& file, const tok::Tokenizer& tokenizer) {
  const std::string content = read_dataset_file(file);
  if (!is_json_lines(file)) return encode_or_throw(tokenizer, content, file);

  const std::vector<DatasetRow> rows = parse_json_lines(content, file, tokenizer.vocab_size());
  if (rows.empty()) throw DatasetError(file.string() + ": no usable rows (the file holds only blank lines)");
  const bool ids_rows = rows.front().has_input_ids;
  std::string joined_text;
  std::vector<int32_t> ids;
  for (const DatasetRow& row : rows) {
    if (row.has_input_ids != ids_rows) {
      throw DatasetError(file.string() + ": line " + std::to_string(row.line) +
                         ": mixes \"text\" and \"input_ids\" rows, which cannot form one token stream");
    }
    if (ids_rows) {
      ids.insert(ids.end(), row.input_ids.begin(), row.input_ids.end());
    } else if (!row.text.empty()) {
      if (!joined_text.empty()) joined_text += "\n\n";
      joined_text += row.text;
    }
  }
  if (!ids_rows) ids = encode_or_throw(tokenizer, joined_text, file);
  if (ids.empty()) throw DatasetError(file.string() + ": no usable rows (nothing in the file yields a token)");
  return ids;
}

std::vector<int32_t> load_id_stream(const std::filesystem::path& file, int64_t vocab_size) {
  if (!is_json_lines(file)) {
    throw DatasetError(file.string() + ": plain text needs the model's tokenizer.json, which the model folder "
                       "lacks; give JSON Lines with \"input_ids\" rows");
  }
  std::vector<int32_t> ids;
  for (const DatasetRow& row : parse_json_lines(read_dataset_file(file), file, vocab_size)) {
    if (!row.has_input_ids) {
      throw DatasetError(file.string() + ": line " + std::to_string(row.line) +
                         ": a \"text\" row needs the model's tokenizer.json, which the model folder lacks");
    }
    ids.insert(ids.end(), row.input_ids.begin(), row.input_ids.end());
  }
  if (ids.empty()) throw DatasetError(file.string() + ": no usable rows (nothing in the file yields a token)");
  return ids;
}

}  // namespace dcomp::data
