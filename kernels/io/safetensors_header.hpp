// Parsing and validation of a safetensors header: the 8-byte length, the JSON
// object, and the tensor byte ranges it declares.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "kernels/io/safetensors.hpp"

namespace dcomp::io::detail {

/// Headers longer than this are rejected, as the reference library does.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct SafetensorsHeader {
  uint64_t data_offset = 0;  // 8 + header length: where the data area starts in the file
  uint64_t data_size = 0;    // bytes in the data area (file size - data_offset)
  std::vector<TensorInfo> tensors;  // sorted by (begin, end): file order
  std::map<std::string, std::string> metadata;
};

/// Parses the header at the start of `bytes` (the whole file, `file_size` bytes)
/// and validates it in O(n log n) in the number of tensors, without reading tensor data:
/// - the header length fits in the file and is at most kMaxHeaderBytes;
/// - the header is a JSON object without duplicate keys; "__metadata__", when
///   present, maps strings to strings;
/// - every tensor has a known dtype, a shape of non-negative integers and
///   data_offsets [begin, end] with end - begin = product(shape) * dtype size;
/// - the ranges lie inside the data area, do not overlap, and cover it with no
///   gap and nothing after the last tensor (the reference library's rule, so
///   every file accepted here is also accepted by it).
/// Throws SafetensorsError whose message starts with `file`.
SafetensorsHeader parse_safetensors_header(const std::filesystem::path& file, const uint8_t* bytes,
                                           uint64_t file_size);

}  // namespace dcomp::io::detail
