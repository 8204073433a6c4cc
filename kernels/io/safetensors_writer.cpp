// write_safetensors and write_safetensors_index.
// reference: https://github.com/huggingface/safetensors safetensors/src/tensor.rs
// (prepare / serialize_to_file: u64 LE header length, JSON header padded with spaces
// to a multiple of 8, data written back to back). Unlike the reference, tensors keep
// the caller's order instead of being sorted by alignment.

#include <cerrno>
#include <cstring>
#include <fstream>
#include <unordered_set>

#include <fcntl.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "kernels/io/safetensors.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; tensors are written as they lie in memory");

namespace dcomp::io {
namespace {

struct PlannedTensor {
  const NamedTensor* source;
  DType stored_dtype;
  uint64_t byte_count;
};

// Checks names and dtypes and decides what each tensor is written as.
std::vector<PlannedTensor> plan_tensors(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors) {
  const auto fail = [&](const std::string& name, const std::string& problem) {
    throw SafetensorsError(path.string() + ": cannot write tensor '" + name + "': " + problem);
  };
  std::vector<PlannedTensor> planned;
  planned.reserve(tensors.size());
  std::unordered_set<std::string> names;
  for (const NamedTensor& named : tensors) {
    if (named.name.empty()) fail(named.name, "the name is empty");
    if (named.name == "__metadata__") fail(named.name, "the name is reserved for the metadata map");
    if (!names.insert(named.name).second) fail(named.name, "the name appears more than once");
    if (!named.tensor.defined()) fail(named.name, "the tensor is undefined");

    DType natural;
    try {
      natural = dtype_of(named.tensor);
    } catch (const SafetensorsError& error) {
      fail(named.name, error.what());
    }
    const DType stored = named.stored_dtype.value_or(natural);
    if (dtype_size(stored) != dtype_size(natural)) {
      fail(named.name, "stored_dtype " + dtype_name(stored) + " has " + std::to_string(dtype_size(stored)) +
                           "-byte elements but the tensor holds " + std::to_string(dtype_size(natural)) +
                           "-byte " + dtype_name(natural));
    }
    planned.push_back({&named, stored, uint64_t(named.tensor.numel()) * dtype_size(natural)});
  }
  return planned;
}

std::string header_text(const std::vector<PlannedTensor>& planned, const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const PlannedTensor& tensor : planned) {
    header[tensor.source->name] = {
        {"dtype", dtype_name(tensor.stored_dtype)},
        {"shape", tensor.source->tensor.sizes().vec()},
        {"data_offsets", {offset, offset + tensor.byte_count}},
    };
    offset += tensor.byte_count;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

// An output file that is removed unless commit() is reached.
class OutputFile {
 public:
  explicit OutputFile(const std::filesystem::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot create", errno);
  }
  ~OutputFile() {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(path_.c_str());
    }
  }

  void write(const void* data, uint64_t size) {
    const auto* cursor = static_cast<const uint8_t*>(data);
    while (size > 0) {
      const ssize_t written = ::write(fd_, cursor, size);
      if (written < 0) {
        if (errno == EINTR) continue;
        fail("cannot write", errno);
      }
      cursor += written;
      size -= static_cast<uint64_t>(written);
    }
  }

  void commit() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
      const int error = errno;
      ::unlink(path_.c_str());
      fail("cannot close", error);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what, int error) const {
    throw SafetensorsError(path_.string() + ": " + what + ": " + std::strerror(error));
  }
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace

void write_safetensors(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::vector<PlannedTensor> planned = plan_tensors(path, tensors);
  const std::string header = header_text(planned, metadata);

  uint8_t length_bytes[8];
  for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<uint8_t>(uint64_t(header.size()) >> (8 * i));

  OutputFile file(path);
  file.write(length_bytes, sizeof(length_bytes));
  file.write(header.data(), header.size());
  for (const PlannedTensor& tensor : planned) {
    if (tensor.byte_count == 0) continue;
    // Only tensors that are not already dense row-major CPU memory are copied.
    const at::Tensor dense = tensor.source->tensor.to(at::kCPU).contiguous();
    file.write(dense.data_ptr(), tensor.byte_count);
  }
  file.commit();
}

void write_safetensors_index(const std::filesystem::path& path, const std::map<std::string, std::string>& weight_map,
                             uint64_t total_size) {
  const nlohmann::json index = {
      {"metadata", {{"total_size", total_size}}},
      {"weight_map", weight_map},
  };
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  if (!stream) throw SafetensorsError(path.string() + ": cannot create: " + std::strerror(errno));
  stream << index.dump(2) << '\n';
  stream.close();
  if (!stream) throw SafetensorsError(path.string() + ": cannot write the index");
}

}  // namespace dcomp::io
