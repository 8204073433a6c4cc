// reference: https://github.com/huggingface/safetensors safetensors/src/tensor.rs
// (SafeTensors::read_metadata, Metadata::validate: MAX_HEADER_SIZE, ranges sorted by
// offsets, each starting where the previous ended, the last ending at the buffer end)

#include "kernels/io/safetensors_header.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "kernels/json/bounded_json.hpp"

namespace dcomp::io::detail {
namespace {

using nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";

std::string format_shape(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

std::string format_range(const TensorInfo& info) {
  return "[" + std::to_string(info.begin) + ", " + std::to_string(info.end) + "]";
}

// Collects the problems of one file into SafetensorsError messages that name it.
class HeaderErrors {
 public:
  explicit HeaderErrors(const std::filesystem::path& file) : file_(file) {}
  [[noreturn]] void fail(const std::string& problem) const {
    throw SafetensorsError(file_.string() + ": " + problem);
  }
  [[noreturn]] void fail_tensor(const std::string& name, const std::string& problem) const {
    fail("tensor '" + name + "' " + problem);
  }

 private:
  const std::filesystem::path& file_;
};

uint64_t read_u64_le(const uint8_t* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// Parses the JSON text within the header's bounds, rejecting duplicate top-level keys
// (nlohmann would keep the last). Linear in the header: nlohmann's parser callback
// rescans the enclosing object after each nested one ends, which made a header of
// 50,000 tensors take over a minute.
json parse_header_json(const HeaderErrors& errors, const std::filesystem::path& file, const char* first,
                       const char* last) {
  std::string duplicate;
  json header;
  try {
    header = json_input::parse_bounded_json(std::string_view(first, static_cast<size_t>(last - first)), file.string(),
                                            {kMaxHeaderBytes, json_input::kMaxJsonDepth}, &duplicate);
  } catch (const json_input::JsonLimitError& error) {
    throw SafetensorsError(error.what());
  } catch (const json::exception& error) {  // parse_error, or out_of_range for a number too large
    errors.fail(std::string("header is not valid JSON: ") + error.what());
  }
  if (!header.is_object()) errors.fail(std::string("header is a JSON ") + header.type_name() + ", not an object");
  if (!duplicate.empty()) errors.fail("header has the key '" + duplicate + "' more than once");
  return header;
}

std::map<std::string, std::string> parse_metadata(const HeaderErrors& errors, const json& value) {
  if (!value.is_object()) {
    errors.fail(std::string("__metadata__ is a JSON ") + value.type_name() + ", not an object of strings");
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [key, entry] : value.items()) {
    if (!entry.is_string()) {
      errors.fail("__metadata__ value of '" + key + "' is a JSON " + entry.type_name() + ", not a string");
    }
    metadata.emplace(key, entry.get<std::string>());
  }
  return metadata;
}

// One header entry {dtype, shape, data_offsets}; checks that the range has the
// size its shape and dtype need. Other keys are ignored, as the reference does.
TensorInfo parse_tensor(const HeaderErrors& errors, const std::string& name, const json& entry) {
  if (!entry.is_object()) errors.fail_tensor(name, std::string("is a JSON ") + entry.type_name() + ", not an object");
  TensorInfo info;
  info.name = name;

  const auto dtype = entry.find("dtype");
  if (dtype == entry.end() || !dtype->is_string()) errors.fail_tensor(name, "has no string 'dtype'");
  try {
    info.dtype = dtype_from_name(dtype->get<std::string>());
  } catch (const SafetensorsError& error) {
    errors.fail_tensor(name, "has an " + std::string(error.what()));
  }

  const auto shape = entry.find("shape");
  if (shape == entry.end() || !shape->is_array()) errors.fail_tensor(name, "has no array 'shape'");
  uint64_t element_count = 1;
  bool overflow = false;
  for (const json& dim : *shape) {
    if (!dim.is_number_unsigned() || dim.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
      errors.fail_tensor(name, "has shape " + shape->dump() + " whose dimensions are not all non-negative integers");
    }
    const auto extent = dim.get<uint64_t>();
    info.shape.push_back(static_cast<int64_t>(extent));
    overflow = overflow || __builtin_mul_overflow(element_count, extent, &element_count);
  }

  const auto offsets = entry.find("data_offsets");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned()) {
    errors.fail_tensor(name, "has no 'data_offsets' [begin, end] of two non-negative integers");
  }
  info.begin = (*offsets)[0].get<uint64_t>();
  info.end = (*offsets)[1].get<uint64_t>();
  if (info.end < info.begin) errors.fail_tensor(name, "data_offsets " + format_range(info) + " end before they begin");

  uint64_t needed = 0;
  overflow = overflow || __builtin_mul_overflow(element_count, uint64_t(dtype_size(info.dtype)), &needed);
  const std::string described = "shape " + format_shape(info.shape) + " of " + dtype_name(info.dtype);
  if (overflow) errors.fail_tensor(name, "has " + described + " whose byte size overflows 64 bits");
  if (info.end - info.begin != needed) {
    errors.fail_tensor(name, "data_offsets " + format_range(info) + " are " + std::to_string(info.end - info.begin) +
                                 " bytes but " + described + " needs " + std::to_string(needed));
  }
  return info;
}

// Ranges sorted by (begin, end) must tile [0, data_size) exactly.
void check_ranges_tile_data_area(const HeaderErrors& errors, const std::vector<TensorInfo>& tensors,
                                 uint64_t data_size) {
  uint64_t covered = 0;  // end of the previous range
  const TensorInfo* previous = nullptr;
  for (const TensorInfo& info : tensors) {
    if (info.end > data_size) {
      errors.fail_tensor(info.name, "data_offsets " + format_range(info) + " run past the end of the data area (" +
                                        std::to_string(data_size) + " bytes)");
    }
    if (info.begin < covered) {
      errors.fail_tensor(info.name, "data_offsets " + format_range(info) + " overlap tensor '" + previous->name +
                                        "' data_offsets " + format_range(*previous));
    }
    if (info.begin > covered) {
      errors.fail("bytes [" + std::to_string(covered) + ", " + std::to_string(info.begin) +
                  ") of the data area belong to no tensor (a gap before tensor '" + info.name + "')");
    }
    covered = info.end;
    previous = &info;
  }
  if (covered != data_size) {
    errors.fail("bytes [" + std::to_string(covered) + ", " + std::to_string(data_size) +
                ") at the end of the data area belong to no tensor");
  }
}

}  // namespace

SafetensorsHeader parse_safetensors_header(const std::filesystem::path& file, const uint8_t* bytes,
                                           uint64_t file_size) {
  const HeaderErrors errors(file);
  if (file_size < 8) {
    errors.fail("file is " + std::to_string(file_size) + " bytes, too short for the 8-byte header length");
  }
  const uint64_t header_length = read_u64_le(bytes);
  if (header_length > kMaxHeaderBytes) {
    errors.fail("header length " + std::to_string(header_length) + " exceeds the limit of " +
                std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (header_length > file_size - 8) {
    errors.fail("header length " + std::to_string(header_length) + " runs past the end of the file (" +
                std::to_string(file_size) + " bytes; the header would end at byte " +
                std::to_string(8 + header_length) + ")");
  }

  SafetensorsHeader header;
  header.data_offset = 8 + header_length;
  header.data_size = file_size - header.data_offset;
  const auto* text = reinterpret_cast<const char*>(bytes + 8);
  const json parsed = parse_header_json(errors, file, text, text + header_length);

  header.tensors.reserve(parsed.size());
  for (const auto& [key, value] : parsed.items()) {
    if (key == kMetadataKey) {
      header.metadata = parse_metadata(errors, value);
    } else {
      header.tensors.push_back(parse_tensor(errors, key, value));
    }
  }
  std::sort(header.tensors.begin(), header.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.end != b.end ? a.end < b.end : a.name < b.name;
  });
  check_ranges_tile_data_area(errors, header.tensors, header.data_size);
  return header;
}

}  // namespace dcomp::io::detail
