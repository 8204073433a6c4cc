// SafetensorsFile: one mapped, validated safetensors file handing out zero-copy tensors.
// reference: https://github.com/huggingface/safetensors safetensors/src/tensor.rs (SafeTensors::tensor)

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <unordered_map>

#include <ATen/ATen.h>

#include "kernels/io/file_mapping.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/io/safetensors_header.hpp"

namespace dcomp::io {

struct SafetensorsFile::Impl {
  std::filesystem::path path;
  std::shared_ptr<const detail::FileMapping> mapping;
  detail::SafetensorsHeader header;
  std::unordered_map<std::string, size_t> index_of;  // name -> position in header.tensors
};

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->mapping = detail::FileMapping::map(path);
  impl->header = detail::parse_safetensors_header(path, impl->mapping->bytes(), impl->mapping->size());
  impl->index_of.reserve(impl->header.tensors.size());
  for (size_t i = 0; i < impl->header.tensors.size(); ++i) impl->index_of.emplace(impl->header.tensors[i].name, i);
  return std::shared_ptr<SafetensorsFile>(new SafetensorsFile(std::move(impl)));
}

SafetensorsFile::SafetensorsFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafetensorsFile::~SafetensorsFile() = default;

const std::filesystem::path& SafetensorsFile::path() const { return impl_->path; }

const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return impl_->header.metadata; }

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> names;
  names.reserve(impl_->header.tensors.size());
  for (const TensorInfo& info : impl_->header.tensors) names.push_back(info.name);
  return names;
}

bool SafetensorsFile::contains(const std::string& name) const { return impl_->index_of.count(name) != 0; }

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  const auto found = impl_->index_of.find(name);
  if (found == impl_->index_of.end()) {
    throw SafetensorsError(impl_->path.string() + ": no tensor named '" + name + "'");
  }
  return impl_->header.tensors[found->second];
}

// A view of the mapped bytes whose deleter keeps the mapping alive. Data whose
// address is not a multiple of the element size (possible when a writer did not
// order tensors by alignment) is copied into an aligned tensor instead, since
// typed access through a misaligned pointer is undefined behaviour in C++.
at::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const TensorInfo& info = this->info(name);
  const auto options = at::TensorOptions().dtype(dtype_to_scalar_type(info.dtype)).device(at::kCPU);
  const uint64_t byte_count = info.end - info.begin;
  if (byte_count == 0) return at::empty(info.shape, options);

  const uint8_t* source = impl_->mapping->bytes() + impl_->header.data_offset + info.begin;
  if (reinterpret_cast<uintptr_t>(source) % dtype_size(info.dtype) != 0) {
    at::Tensor aligned = at::empty(info.shape, options);
    std::memcpy(aligned.data_ptr(), source, byte_count);
    return aligned;
  }
  return at::from_blob(
      const_cast<uint8_t*>(source), info.shape, [keep_alive = impl_->mapping](void*) {}, options);
}

void SafetensorsFile::release(const std::string& name) const {
  const TensorInfo& tensor_info = info(name);
  const long page = ::sysconf(_SC_PAGESIZE);
  const uintptr_t start = reinterpret_cast<uintptr_t>(impl_->mapping->bytes()) + impl_->header.data_offset +
                          tensor_info.begin;
  const uintptr_t stop = start + (tensor_info.end - tensor_info.begin);
  // Only whole pages inside the tensor: neighbours keep theirs.
  const uintptr_t first = (start + page - 1) / page * page;
  const uintptr_t last = stop / page * page;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace dcomp::io
