// reference: the GGUF specification, ggml/docs/gguf.md in the ggml repository
#include "kernels/gguf/gguf_file.hpp"

#include <algorithm>
#include <cstring>
#include <set>

#include "kernels/io/file_mapping.hpp"
#include "kernels/io/safetensors.hpp"

namespace dcomp::gguf {
namespace {

constexpr uint32_t kMaxDims = 4;        // GGML_MAX_DIMS
constexpr uint64_t kMaxNameBytes = 64;  // GGML_MAX_NAME: a name and its terminating zero
constexpr int kMaxArrayNesting = 4;     // arrays of arrays are skipped, to this depth
constexpr uint64_t kDefaultAlignment = 32;

enum ValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

// Fixed size of a scalar value type; 0 for strings and arrays, -1 for an unknown type.
int scalar_size(uint32_t type) {
  switch (type) {
    case kU8: case kI8: case kBool: return 1;
    case kU16: case kI16: return 2;
    case kU32: case kI32: case kF32: return 4;
    case kU64: case kI64: case kF64: return 8;
    case kString: case kArray: return 0;
    default: return -1;
  }
}

// Bounds-checked little-endian reading of the header region.
class Cursor {
 public:
  Cursor(const uint8_t* bytes, uint64_t size, const std::filesystem::path& path)
      : bytes_(bytes), size_(size), path_(path) {}

  uint64_t position() const { return position_; }
  uint64_t remaining() const { return size_ - position_; }

  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_ + position_, sizeof(T));
    position_ += sizeof(T);
    return value;
  }
  std::string read_string(const char* what) {
    const auto length = read<uint64_t>(what);
    need(length, what);
    std::string text(reinterpret_cast<const char*>(bytes_ + position_), length);
    position_ += length;
    return text;
  }
  void need(uint64_t count, const char* what) const {
    if (count > remaining())
      throw GgufError(path_.string() + ": truncated: " + what + " at byte " + std::to_string(position_) +
                      " needs " + std::to_string(count) + " bytes, the file has " + std::to_string(remaining()) +
                      " left");
  }

 private:
  const uint8_t* bytes_;
  uint64_t size_;
  uint64_t position_ = 0;
  const std::filesystem::path& path_;
};

GgufValue read_scalar(Cursor& cursor, uint32_t type, const char* what) {
  switch (type) {
    case kU8: return uint64_t{cursor.read<uint8_t>(what)};
    case kI8: return int64_t{cursor.read<int8_t>(what)};
    case kU16: return uint64_t{cursor.read<uint16_t>(what)};
    case kI16: return int64_t{cursor.read<int16_t>(what)};
    case kU32: return uint64_t{cursor.read<uint32_t>(what)};
    case kI32: return int64_t{cursor.read<int32_t>(what)};
    case kU64: return cursor.read<uint64_t>(what);
    case kI64: return cursor.read<int64_t>(what);
    case kF32: return double{cursor.read<float>(what)};
    case kF64: return cursor.read<double>(what);
    case kBool: return cursor.read<uint8_t>(what) != 0;
    default: return cursor.read_string(what);  // kString
  }
}

// Reads an array value; nested arrays are read past and yield nullopt.
std::optional<GgufValue> read_array(Cursor& cursor, const std::string& key, int depth,
                                    const std::filesystem::path& path) {
  const auto element_type = cursor.read<uint32_t>("an array's element type");
  const auto count = cursor.read<uint64_t>("an array's length");
  const int size = scalar_size(element_type);
  if (size < 0)
    throw GgufError(path.string() + ": metadata '" + key + "' is an array of unknown value type " +
                    std::to_string(element_type));
  // Every element takes at least one byte (a string at least its 8-byte length): a count
  // the file cannot hold is refused before anything is allocated.
  const uint64_t least = element_type == kString ? 8 : element_type == kArray ? 12 : uint64_t(size);
  if (count > cursor.remaining() / least)
    throw GgufError(path.string() + ": metadata '" + key + "' claims " + std::to_string(count) +
                    " elements, more than the file holds");
  if (element_type == kArray) {
    if (depth >= kMaxArrayNesting)
      throw GgufError(path.string() + ": metadata '" + key + "' nests arrays deeper than " +
                      std::to_string(kMaxArrayNesting));
    for (uint64_t i = 0; i < count; ++i) read_array(cursor, key, depth + 1, path);
    return std::nullopt;
  }
  if (element_type == kString) {
    std::vector<std::string> values(count);
    for (auto& value : values) value = cursor.read_string("an array string");
    return values;
  }
  if (element_type == kF32 || element_type == kF64) {
    std::vector<double> values(count);
    for (auto& value : values) value = std::get<double>(read_scalar(cursor, element_type, "an array element"));
    return values;
  }
  if (element_type == kBool || element_type == kU8 || element_type == kU16 || element_type == kU32 ||
      element_type == kU64) {
    std::vector<uint64_t> values(count);
    for (auto& value : values) {
      const auto scalar = read_scalar(cursor, element_type, "an array element");
      value = std::holds_alternative<bool>(scalar) ? uint64_t(std::get<bool>(scalar)) : std::get<uint64_t>(scalar);
    }
    return values;
  }
  std::vector<int64_t> values(count);
  for (auto& value : values) value = std::get<int64_t>(read_scalar(cursor, element_type, "an array element"));
  return values;
}

// The 4-byte magic "GGUF", then the format version (2 or 3), which is returned.
uint32_t read_magic_and_version(Cursor& cursor, const std::filesystem::path& path) {
  const auto magic = cursor.read<uint32_t>("the magic number");
  if (magic != 0x46554747u)  // "GGUF" little-endian
    throw GgufError(path.string() + ": not a GGUF file (it does not start with \"GGUF\")");
  const auto version = cursor.read<uint32_t>("the version");
  if (version != 2 && version != 3)
    throw GgufError(path.string() + ": GGUF version " + std::to_string(version) +
                    " is not supported (versions 2 and 3 are; a byte-swapped number means a big-endian file)");
  return version;
}

struct HeaderCounts {
  uint64_t tensors;
  uint64_t metadata;
};

// The tensor and metadata counts, refused when the file is too small to hold that many
// entries (a metadata entry takes at least 12 bytes, a tensor entry at least 24).
HeaderCounts read_header_counts(Cursor& cursor, const std::filesystem::path& path) {
  const auto tensor_count = cursor.read<uint64_t>("the tensor count");
  const auto metadata_count = cursor.read<uint64_t>("the metadata count");
  if (metadata_count > cursor.remaining() / 12 || tensor_count > cursor.remaining() / 24)
    throw GgufError(path.string() + ": the header claims " + std::to_string(metadata_count) + " metadata entries and " +
                    std::to_string(tensor_count) + " tensors, more than the file holds");
  return {tensor_count, metadata_count};
}

// The key/value pairs after the counts; nested arrays are read past and not kept.
void read_metadata_entries(Cursor& cursor, uint64_t metadata_count, const std::filesystem::path& path,
                   std::map<std::string, GgufValue>& metadata) {
  for (uint64_t i = 0; i < metadata_count; ++i) {
    auto key = cursor.read_string("a metadata key");
    const auto type = cursor.read<uint32_t>("a metadata value type");
    if (scalar_size(type) < 0)
      throw GgufError(path.string() + ": metadata '" + key + "' has unknown value type " + std::to_string(type));
    std::optional<GgufValue> value;
    if (type == kArray)
      value = read_array(cursor, key, 0, path);
    else
      value = read_scalar(cursor, type, "a metadata value");
    if (metadata.count(key)) throw GgufError(path.string() + ": metadata '" + key + "' appears twice");
    if (value) metadata.emplace(std::move(key), std::move(*value));
  }
}

// general.alignment when the metadata sets it (a power of two), else 32.
uint64_t data_alignment(const GgufFile& file, const std::filesystem::path& path) {
  uint64_t alignment = kDefaultAlignment;
  if (file.has("general.alignment")) {
    alignment = file.unsigned_integer("general.alignment");
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
      throw GgufError(path.string() + ": general.alignment " + std::to_string(alignment) + " is not a power of two");
  }
  return alignment;
}

// Reads a tensor's dimension count and extents into info.shape (outermost first; GGUF stores
// them innermost first) and returns the element count.
uint64_t read_tensor_shape(Cursor& cursor, GgufTensorInfo& info, const std::filesystem::path& path) {
  const auto dims = cursor.read<uint32_t>("a tensor's dimension count");
  if (dims == 0 || dims > kMaxDims)
    throw GgufError(path.string() + ": tensor '" + info.name + "' has " + std::to_string(dims) +
                    " dimensions (1 to 4 are allowed)");
  uint64_t elements = 1;
  for (uint32_t d = 0; d < dims; ++d) {
    const auto extent = cursor.read<uint64_t>("a tensor dimension");
    if (extent == 0 || extent > (uint64_t{1} << 40) || elements > (uint64_t{1} << 50) / extent)
      throw GgufError(path.string() + ": tensor '" + info.name + "' has an impossible dimension " +
                      std::to_string(extent));
    elements *= extent;
    info.shape.insert(info.shape.begin(), static_cast<int64_t>(extent));
  }
  return elements;
}

// One tensor-info entry (name, shape, ggml type, offset into the data area); its byte size
// is set for the types with a known block layout.
GgufTensorInfo read_tensor_info(Cursor& cursor, uint64_t index, uint64_t alignment,
                                std::set<std::string>& tensor_names, const std::filesystem::path& path) {
  GgufTensorInfo info;
  info.name = cursor.read_string("a tensor name");
  if (info.name.size() >= kMaxNameBytes)
    throw GgufError(path.string() + ": tensor " + std::to_string(index) + "'s name is " +
                    std::to_string(info.name.size()) + " bytes long; GGUF tensor names are shorter than " +
                    std::to_string(kMaxNameBytes) + " bytes (GGML_MAX_NAME)");
  if (!tensor_names.insert(info.name).second)
    throw GgufError(path.string() + ": tensor '" + info.name + "' appears twice");
  const uint64_t elements = read_tensor_shape(cursor, info, path);
  const auto type_number = cursor.read<uint32_t>("a tensor type");
  const auto type = ggml_type_from_number(type_number);
  if (!type)
    throw GgufError(path.string() + ": tensor '" + info.name + "' has ggml type number " +
                    std::to_string(type_number) + ", which ggml does not define");
  info.type = *type;
  info.offset = cursor.read<uint64_t>("a tensor offset");
  if (info.offset % alignment != 0)
    throw GgufError(path.string() + ": tensor '" + info.name + "' starts at offset " + std::to_string(info.offset) +
                    ", not a multiple of the alignment " + std::to_string(alignment));
  if (const auto block = ggml_block(info.type)) {
    const auto row = static_cast<uint64_t>(info.shape.back());
    if (row % block->elements != 0)
      throw GgufError(path.string() + ": tensor '" + info.name + "' has rows of " + std::to_string(row) +
                      " values, not a multiple of the " + ggml_type_name(info.type) + " block of " +
                      std::to_string(block->elements));
    info.bytes = elements / block->elements * block->bytes;
  }
  return info;
}

// Every tensor's bytes lie between the start of the data area and the end of the file.
void check_tensors_end_within_file(const std::vector<GgufTensorInfo>& tensors, uint64_t data_start,
                                   uint64_t file_size, const std::filesystem::path& path) {
  for (const auto& info : tensors) {
    const uint64_t available = file_size >= data_start ? file_size - data_start : 0;
    if (info.offset > available || info.bytes > available - info.offset)
      throw GgufError(path.string() + ": truncated: tensor '" + info.name + "' (" + ggml_type_name(info.type) +
                      ", " + std::to_string(info.bytes) + " bytes at offset " + std::to_string(info.offset) +
                      ") ends past the end of the file");
  }
}

// No two tensors share a byte of the data area (checked in offset order).
void check_tensors_do_not_overlap(const std::vector<GgufTensorInfo>& tensors, const std::filesystem::path& path) {
  std::vector<std::pair<uint64_t, const GgufTensorInfo*>> extents;
  for (const auto& info : tensors) extents.emplace_back(info.offset, &info);
  std::sort(extents.begin(), extents.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < extents.size(); ++i) {
    const auto& previous = *extents[i - 1].second;
    if (previous.offset + previous.bytes > extents[i].first)
      throw GgufError(path.string() + ": tensors '" + previous.name + "' and '" + extents[i].second->name +
                      "' overlap");
  }
}

}  // namespace

std::shared_ptr<GgufFile> GgufFile::open(const std::filesystem::path& path) {
  std::shared_ptr<GgufFile> file(new GgufFile());
  file->path_ = path;
  try {
    file->mapping_ = io::detail::FileMapping::map(path);
  } catch (const io::SafetensorsError& error) {
    throw GgufError(error.what());
  }
  Cursor cursor(file->mapping_->bytes(), file->mapping_->size(), file->path_);
  file->version_ = read_magic_and_version(cursor, path);
  const auto counts = read_header_counts(cursor, path);
  read_metadata_entries(cursor, counts.metadata, path, file->metadata_);
  const uint64_t alignment = data_alignment(*file, path);

  std::set<std::string> tensor_names;
  for (uint64_t i = 0; i < counts.tensors; ++i)
    file->tensors_.push_back(read_tensor_info(cursor, i, alignment, tensor_names, path));

  file->data_start_ = (cursor.position() + alignment - 1) / alignment * alignment;
  const uint64_t size = file->mapping_->size();
  if (file->data_start_ > size && !file->tensors_.empty())
    throw GgufError(path.string() + ": truncated: the data area would start at byte " +
                    std::to_string(file->data_start_) + " of " + std::to_string(size));
  check_tensors_end_within_file(file->tensors_, file->data_start_, size, path);
  check_tensors_do_not_overlap(file->tensors_, path);
  return file;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  for (const auto& info : tensors_)
    if (info.name == name) return &info;
  return nullptr;
}

const uint8_t* GgufFile::tensor_bytes(const GgufTensorInfo& info) const {
  return mapping_->bytes() + data_start_ + info.offset;
}

GgufError GgufFile::error(const std::string& what) const { return GgufError(path_.string() + ": " + what); }

const GgufValue& GgufFile::value(const std::string& key) const {
  const auto found = metadata_.find(key);
  if (found == metadata_.end()) throw error("metadata '" + key + "' is missing");
  return found->second;
}

uint64_t GgufFile::unsigned_integer(const std::string& key) const {
  const auto& held = value(key);
  if (const auto* u = std::get_if<uint64_t>(&held)) return *u;
  if (const auto* i = std::get_if<int64_t>(&held); i && *i >= 0) return static_cast<uint64_t>(*i);
  throw error("metadata '" + key + "' is not a non-negative integer");
}

double GgufFile::real(const std::string& key) const {
  const auto& held = value(key);
  if (const auto* d = std::get_if<double>(&held)) return *d;
  if (const auto* u = std::get_if<uint64_t>(&held)) return static_cast<double>(*u);
  if (const auto* i = std::get_if<int64_t>(&held)) return static_cast<double>(*i);
  throw error("metadata '" + key + "' is not a number");
}

bool GgufFile::boolean(const std::string& key) const {
  if (const auto* b = std::get_if<bool>(&value(key))) return *b;
  throw error("metadata '" + key + "' is not a boolean");
}

const std::string& GgufFile::string(const std::string& key) const {
  if (const auto* s = std::get_if<std::string>(&value(key))) return *s;
  throw error("metadata '" + key + "' is not a string");
}

const std::vector<std::string>& GgufFile::strings(const std::string& key) const {
  if (const auto* s = std::get_if<std::vector<std::string>>(&value(key))) return *s;
  throw error("metadata '" + key + "' is not an array of strings");
}

std::vector<double> GgufFile::reals(const std::string& key) const {
  const auto& held = value(key);
  if (const auto* d = std::get_if<std::vector<double>>(&held)) return *d;
  if (const auto* i = std::get_if<std::vector<int64_t>>(&held)) return {i->begin(), i->end()};
  if (const auto* u = std::get_if<std::vector<uint64_t>>(&held)) return {u->begin(), u->end()};
  throw error("metadata '" + key + "' is not an array of numbers");
}

std::vector<int64_t> GgufFile::integers(const std::string& key) const {
  const auto& held = value(key);
  if (const auto* i = std::get_if<std::vector<int64_t>>(&held)) return *i;
  if (const auto* u = std::get_if<std::vector<uint64_t>>(&held)) {
    std::vector<int64_t> values;
    for (const auto v : *u) values.push_back(static_cast<int64_t>(v));
    return values;
  }
  throw error("metadata '" + key + "' is not an array of integers");
}

}  // namespace dcomp::gguf
