// Calibration and evaluation data: token samples from plain text or JSON Lines files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "kernels/tokenizer/tokenizer.hpp"

namespace dcomp::data {

/// How calibration samples are cut and drawn.
struct SampleOptions {
  size_t num_samples = 512;     ///< samples returned (all candidates when fewer exist)
  size_t max_seq_length = 2048;  ///< tokens per sample at most, BOS included
  uint64_t seed = 42;           ///< seeds the shuffle; equal seeds give equal samples
  bool shuffle = true;          ///< false: rows, blocks and windows in file order (no shuffle)
  bool add_bos = true;          ///< start text samples with the tokenizer's BOS token
};

/// Unreadable or malformed dataset files; the message names the file and, for JSON
/// Lines, the line number.
class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Calibration samples from `file`, read lazily (only what the samples need), which is one of:
/// - JSON Lines (extension .jsonl or .json): one JSON object per line with either a
///   "text" string (a sample is BOS + its tokens, truncated to max_seq_length) or an
///   "input_ids" list of integers (used as given, truncated). Every line is parsed; the
///   rows are then visited in a shuffled order (std::mt19937_64 seeded with `seed`,
///   Fisher-Yates with unbiased bounded draws, the same on every platform) and tokenized,
///   a long text only as far as its sample needs, until num_samples usable rows are
///   found (in file order when !shuffle). Blank lines and rows with an empty text or list are skipped.
/// - plain text (any other extension): cut into blocks (TextBlockFile with
///   calibration_block_bytes(max_seq_length)) that are visited in a shuffled order; each
///   visited block is tokenized on its own and cut into consecutive windows of
///   max_seq_length tokens, each starting with BOS when add_bos (BOS + max_seq_length - 1
///   text tokens), of which ceil(num_samples / blocks) are taken in a shuffled order, and
///   the windows passed over fill any shortfall. A block's shorter tail is dropped,
///   unless the text does not fill even one window, in which case it is the only sample.
///   A file of one block gives all its windows in one shuffle. Without shuffle, blocks and
///   windows are taken in file order.
/// Bytes in blocks or rows never visited are not checked (for example for UTF-8).
/// Throws DatasetError for an unreadable or empty file, invalid JSON (with the line), a
/// row with neither "text" nor "input_ids", no usable rows, ids outside the vocabulary,
/// or add_bos with a tokenizer that has no BOS token while text samples need one.
std::vector<std::vector<int32_t>> load_samples(const std::filesystem::path& file, const tok::Tokenizer& tokenizer,
                                               const SampleOptions& options);

/// As load_samples for a model without a tokenizer: JSON Lines of "input_ids" rows only (ids
/// below `vocab_size`); plain text or a "text" row is a DatasetError naming the file (and line).
std::vector<std::vector<int32_t>> load_id_samples(const std::filesystem::path& file, int64_t vocab_size,
                                                  const SampleOptions& options);

/// For evaluation: all tokens of `file` in order, without BOS and without shuffling.
/// Plain text: the text's tokens. JSON Lines: the "text" rows joined with "\n\n" and
/// tokenized as one text, or, when the rows hold "input_ids", those lists concatenated
/// (a file mixing both kinds is rejected).
std::vector<int32_t> load_token_stream(const std::filesystem::path& file, const tok::Tokenizer& tokenizer);

/// As load_token_stream for a model without a tokenizer: the "input_ids" rows of a JSON Lines
/// file concatenated (ids below `vocab_size`); plain text or a "text" row is a DatasetError.
std::vector<int32_t> load_id_stream(const std::filesystem::path& file, int64_t vocab_size);

}  // namespace dcomp::data
