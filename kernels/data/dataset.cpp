// reference: Frantar et al., "GPTQ" (ICLR 2023) section 5 (calibration data: random
// 2048-token segments of a corpus); llm-compressor datasets/utils.py (512 calibration
// samples by default, shuffled before they are taken).
#include "kernels/data/dataset.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "kernels/data/dataset_rows.hpp"
#include "kernels/data/shuffle.hpp"

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

// Consecutive windows of the token stream, each BOS (when given) + up to `text_tokens` tokens.
std::vector<std::vector<int32_t>> cut_windows(const std::vector<int32_t>& tokens, std::optional<int32_t> bos,
                                              size_t text_tokens) {
  std::vector<std::vector<int32_t>> windows;
  for (size_t start = 0; start < tokens.size(); start += text_tokens) {
    const size_t end = std::min(tokens.size(), start + text_tokens);
    if (end - start < text_tokens && !windows.empty()) break;  // a short tail after full windows is dropped
    std::vector<int32_t> window;
    window.reserve(text_tokens + 1);
    if (bos) window.push_back(*bos);
    window.insert(window.end(), tokens.begin() + static_cast<std::ptrdiff_t>(start),
                  tokens.begin() + static_cast<std::ptrdiff_t>(end));
    windows.push_back(std::move(window));
  }
  return windows;
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
  const auto bos_for_text = [&]() -> std::optional<int32_t> {
    if (!options.add_bos) return std::nullopt;
    const std::optional<int32_t> bos = tokenizer.bos_id();
    if (!bos) throw DatasetError(file.string() + ": add_bos is set but the tokenizer has no BOS token");
    return bos;
  };

  const std::string content = read_dataset_file(file);
  std::vector<std::vector<int32_t>> candidates;
  if (is_json_lines(file)) {
    for (DatasetRow& row : parse_json_lines(content, file, tokenizer.vocab_size())) {
      std::vector<int32_t> sample;
      if (row.has_input_ids) {
        sample = std::move(row.input_ids);
      } else if (!row.text.empty()) {
        if (const auto bos = bos_for_text()) sample.push_back(*bos);
        const std::vector<int32_t> tokens = encode_or_throw(tokenizer, row.text, file, row.line);
        sample.insert(sample.end(), tokens.begin(), tokens.end());
      }
      if (sample.size() > options.max_seq_length) sample.resize(options.max_seq_length);
      const bool usable = row.has_input_ids ? !sample.empty() : sample.size() > bos_slots;
      if (usable) candidates.push_back(std::move(sample));
    }
  } else {
    candidates = cut_windows(encode_or_throw(tokenizer, content, file), bos_for_text(), options.max_seq_length - bos_slots);
  }
  if (candidates.empty()) throw DatasetError(file.string() + ": no usable rows (nothing in the file yields a token)");

  const std::vector<size_t> order = shuffled_order(candidates.size(), options.seed);
  const size_t count = std::min(options.num_samples, candidates.size());
  std::vector<std::vector<int32_t>> samples;
  samples.reserve(count);
  for (size_t k = 0; k < count; ++k) samples.push_back(std::move(candidates[order[k]]));
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

}  // namespace dcomp::data
