// reference: JSON Lines format, https://jsonlines.org/ (one UTF-8 JSON value per line).
#include "kernels/data/dataset_rows.hpp"

#include <cstring>
#include <fstream>
#include <limits>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kernels/data/dataset.hpp"
#include "kernels/json/bounded_json.hpp"

namespace dcomp::data {
namespace {

[[noreturn]] void fail_at_line(const std::filesystem::path& file, size_t line, const std::string& message) {
  throw DatasetError(file.string() + ": line " + std::to_string(line) + ": " + message);
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

[[noreturn]] void fail_line_too_long(const std::filesystem::path& file, size_t line) {
  fail_at_line(file, line, "longer than dcomp's limit of " + std::to_string(kMaxJsonLineBytes >> 20) +
                               " MiB for one JSON Lines row");
}

// Tracks the line being read across chunks of a JSON Lines file.
class LineLengthCheck {
 public:
  explicit LineLengthCheck(const std::filesystem::path& file) : file_(file) {}
  void add(const char* bytes, size_t count) {
    for (const char* end = bytes + count; bytes < end;) {
      const char* newline = static_cast<const char*>(std::memchr(bytes, '\n', static_cast<size_t>(end - bytes)));
      const size_t taken = static_cast<size_t>((newline ? newline : end) - bytes);
      if ((length_ += taken) > kMaxJsonLineBytes) fail_line_too_long(file_, line_);
      if (!newline) return;
      ++line_;
      length_ = 0;
      bytes = newline + 1;
    }
  }

 private:
  const std::filesystem::path& file_;
  size_t line_ = 1;
  uint64_t length_ = 0;
};

}  // namespace

std::string read_dataset_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DatasetError(file.string() + ": cannot open dataset file");
  const bool json_lines = is_json_lines(file);
  LineLengthCheck lines(file);
  std::string text;
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto count = static_cast<size_t>(in.gcount());
    if (json_lines) lines.add(chunk.data(), count);
    try {
      text.append(chunk.data(), count);
    } catch (const std::bad_alloc&) {
      throw DatasetError(file.string() + ": out of memory while reading the dataset, needing more than " +
                         std::to_string(text.size() + count) + " bytes");
    }
  }
  if (in.bad()) throw DatasetError(file.string() + ": read error");
  if (text.empty()) throw DatasetError(file.string() + ": dataset file is empty");
  return text;
}

bool is_json_lines(const std::filesystem::path& file) {
  const std::string extension = file.extension().string();
  return extension == ".jsonl" || extension == ".json";
}

std::vector<DatasetRow> parse_json_lines(const std::string& content, const std::filesystem::path& file,
                                         size_t vocab_size) {
  std::vector<DatasetRow> rows;
  size_t line_number = 0;
  for (size_t start = 0; start < content.size();) {
    const size_t newline = content.find('\n', start);
    const size_t end = newline == std::string::npos ? content.size() : newline;
    const std::string_view line(content.data() + start, end - start);
    start = end + 1;
    ++line_number;
    if (is_blank(line)) continue;
    if (line.size() > kMaxJsonLineBytes) fail_line_too_long(file, line_number);
    nlohmann::json value;
    try {
      value = json_input::parse_bounded_json(line, file.string() + ": line " + std::to_string(line_number),
                                             {kMaxJsonLineBytes, json_input::kMaxJsonDepth});
    } catch (const json_input::JsonLimitError& error) {
      throw DatasetError(error.what());
    } catch (const nlohmann::json::exception& error) {  // parse_error, or out_of_range for a number too large
      fail_at_line(file, line_number, std::string("invalid JSON: ") + error.what());
    }
    if (!value.is_object()) fail_at_line(file, line_number, std::string("expected a JSON object, found ") + value.type_name());

    DatasetRow row;
    row.line = line_number;
    if (const auto ids = value.find("input_ids"); ids != value.end()) {
      if (!ids->is_array()) fail_at_line(file, line_number, "\"input_ids\" must be a list of integers");
      row.has_input_ids = true;
      row.input_ids.reserve(ids->size());
      for (const nlohmann::json& id : *ids) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || static_cast<uint64_t>(id.get<int64_t>()) >= vocab_size) {
          fail_at_line(file, line_number, "\"input_ids\" holds " + id.dump() + ", not a token id below the vocabulary size " +
                                              std::to_string(vocab_size));
        }
        row.input_ids.push_back(static_cast<int32_t>(id.get<int64_t>()));
      }
    } else if (const auto text = value.find("text"); text != value.end()) {
      if (!text->is_string()) fail_at_line(file, line_number, "\"text\" must be a string");
      row.text = text->get<std::string>();
    } else {
      fail_at_line(file, line_number, "row has neither \"text\" nor \"input_ids\"");
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace dcomp::data
