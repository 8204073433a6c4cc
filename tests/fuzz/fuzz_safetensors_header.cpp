// Fuzzes the safetensors header parser (kernels/io/safetensors_header.cpp): the input
// is a whole file (8-byte little-endian header length, JSON header, data area). An
// accepted header must describe ranges that tile the data area; such a file is then
// also opened through SafetensorsFile from tmpfs, and every tensor view must hold
// exactly the bytes of its range.
// reference: https://llvm.org/docs/LibFuzzer.html

#include <cstring>
#include <optional>
#include <string>

#include <ATen/ATen.h>

#include "kernels/io/safetensors.hpp"
#include "kernels/io/safetensors_header.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using dcomp::fuzz::check;
using dcomp::io::SafetensorsError;
using dcomp::io::SafetensorsFile;
using dcomp::io::detail::SafetensorsHeader;

void check_header(const SafetensorsHeader& header, size_t size) {
  check(header.data_offset >= 8 && header.data_offset <= size, "data_offset lies inside the file");
  check(header.data_offset + header.data_size == size, "the data area ends at the end of the file");
  uint64_t covered = 0;
  for (const auto& tensor : header.tensors) {
    check(tensor.begin == covered, "tensor '" + tensor.name + "' starts where the previous one ended");
    check(tensor.end >= tensor.begin, "tensor '" + tensor.name + "' has end >= begin");
    uint64_t elements = 1;
    for (const int64_t extent : tensor.shape) {
      check(extent >= 0, "tensor '" + tensor.name + "' has non-negative extents");
      elements *= static_cast<uint64_t>(extent);  // cannot overflow: the parser checked the byte size
    }
    check(elements * dcomp::io::dtype_size(tensor.dtype) == tensor.end - tensor.begin,
          "tensor '" + tensor.name + "' has the byte size of its shape and dtype");
    covered = tensor.end;
  }
  check(covered == header.data_size, "the tensors cover the data area");
}

// Opens the accepted file as the loader does and compares every tensor with its bytes.
void check_open(const uint8_t* data, size_t size, const SafetensorsHeader& header) {
  static const dcomp::fuzz::ScratchDir scratch("safetensors");
  const auto path = scratch.write("model.safetensors", data, size);
  const auto file = SafetensorsFile::open(path);
  check(file->names().size() == header.tensors.size(), "SafetensorsFile lists every tensor");
  for (const auto& info : header.tensors) {
    const at::Tensor tensor = file->tensor(info.name);
    check(static_cast<uint64_t>(tensor.nbytes()) == info.end - info.begin, "tensor '" + info.name + "' has its byte size");
    check(tensor.nbytes() == 0 || std::memcmp(tensor.data_ptr(), data + header.data_offset + info.begin, tensor.nbytes()) == 0,
          "tensor '" + info.name + "' holds the bytes of its range");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::optional<SafetensorsHeader> header;
  dcomp::fuzz::parse_or_reject<SafetensorsError>(
      [&] { header = dcomp::io::detail::parse_safetensors_header("fuzz.safetensors", data, size); });
  if (!header) return 0;
  check_header(*header, size);
  try {
    check_open(data, size, *header);
  } catch (const std::exception& error) {
    dcomp::fuzz::fail(std::string("a file whose header was accepted cannot be read: ") + error.what());
  }
  return 0;
}
