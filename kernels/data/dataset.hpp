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
  bool add_bos = true;          ///< start text samples with the tokenizer's BOS token
};

/// Unreadable or malformed dataset files; the message names the file and, for JSON
/// Lines, the line number.
class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Calibration samples from `file`, which is one of:
/// - JSON Lines (extension .jsonl or .json): one JSON object per line with either a
///   "text" string (a sample is BOS + its tokens, truncated to max_seq_length) or an
///   "input_ids" list of integers (used as given, truncated). Blank lines and rows with an
///   empty text or list are skipped.
/// - plain text (any other extension): the whole file is tokenized as one stream and cut
///   into consecutive windows of max_seq_length tokens, each starting with BOS when
///   add_bos (BOS + max_seq_length - 1 text tokens). A shorter final window is dropped,
///   unless the text does not fill even one window, in which case it is the only sample.
/// The candidates are shuffled (std::mt19937_64 seeded with `seed`, Fisher-Yates with
/// unbiased bounded draws, so the result is the same on every platform) and the first
/// num_samples are returned.
/// Throws DatasetError for an unreadable or empty file, invalid JSON (with the line), a
/// row with neither "text" nor "input_ids", no usable rows, ids outside the vocabulary,
/// or add_bos with a tokenizer that has no BOS token while text samples need one.
std::vector<std::vector<int32_t>> load_samples(const std::filesystem::path& file, const tok::Tokenizer& tokenizer,
                                               const SampleOptions& options);

/// For evaluation: all tokens of `file` in order, without BOS and without shuffling.
/// Plain text: the text's tokens. JSON Lines: the "text" rows joined with "\n\n" and
/// tokenized as one text, or, when the rows hold "input_ids", those lists concatenated
/// (a file mixing both kinds is rejected).
std::vector<int32_t> load_token_stream(const std::filesystem::path& file, const tok::Tokenizer& tokenizer);

}  // namespace dcomp::data
