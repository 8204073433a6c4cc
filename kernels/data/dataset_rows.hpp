// Reading dataset files: the raw bytes, the format decision, and the rows of a JSON
// Lines file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dcomp::data {

/// The longest line of a JSON Lines file (a row's JSON text), checked while the file is
/// read, before the line is held or parsed.
inline constexpr uint64_t kMaxJsonLineBytes = uint64_t{64} << 20;

/// The whole file; DatasetError when it cannot be read or is empty, or (a JSON Lines file,
/// is_json_lines) when a line is longer than kMaxJsonLineBytes, naming the line.
std::string read_dataset_file(const std::filesystem::path& file);

/// True for .jsonl and .json files, which are read as JSON Lines.
bool is_json_lines(const std::filesystem::path& file);

/// One non-blank line of a JSON Lines file.
struct DatasetRow {
  size_t line = 0;                 // 1-based line number in the file
  bool has_input_ids = false;      // "input_ids" row (else a "text" row)
  std::string text;                // "text" rows
  std::vector<int32_t> input_ids;  // "input_ids" rows
};

/// Parses every non-blank line as a JSON object with "input_ids" (integers in
/// [0, vocab_size)) or "text" (a string); "input_ids" wins when both are present.
/// DatasetError names the file and line for invalid JSON, a line longer than
/// kMaxJsonLineBytes or nested deeper than json_input::kMaxJsonDepth, a non-object line,
/// a row with neither field, or a field of the wrong type.
std::vector<DatasetRow> parse_json_lines(const std::string& content, const std::filesystem::path& file,
                                         size_t vocab_size);

}  // namespace dcomp::data
