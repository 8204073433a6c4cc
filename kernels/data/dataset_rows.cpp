// reference: JSON Lines format, https://jsonlines.org/ (one UTF-8 JSON value per line).
#include "kernels/data/dataset_rows.hpp"

#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "kernels/data/dataset.hpp"

namespace dcomp::data {
namespace {

[[noreturn]] void fail_at_line(const std::filesystem::path& file, size_t line, const std::string& message) {
  throw DatasetError(file.string() + ": line " + std::to_string(line) + ": " + message);
}

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

std::string read_dataset_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DatasetError(file.string() + ": cannot open dataset file");
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw DatasetError(file.string() + ": read error");
  std::string text = content.str();
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
  std::istringstream lines(content);
  std::string line;
  size_t line_number = 0;
  while (std::getline(lines, line)) {
    ++line_number;
    if (is_blank(line)) continue;
    nlohmann::json value;
    try {
      value = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& error) {
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
