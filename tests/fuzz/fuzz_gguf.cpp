// Fuzzes the GGUF reader (kernels/gguf/gguf_file.cpp) and what convert-gguf builds from
// an accepted file before writing anything: the tokenizer files (gguf_tokenizer.cpp) and
// the dequantized tensors (ggml_dequantize.cpp). The input is a whole .gguf file. An
// accepted file must place every tensor's bytes inside it; any other outcome must be a
// GgufError with a message.
// reference: https://llvm.org/docs/LibFuzzer.html

#include <ATen/ATen.h>

#include "kernels/gguf/ggml_dequantize.hpp"
#include "kernels/gguf/gguf_file.hpp"
#include "kernels/gguf/gguf_tokenizer.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using dcomp::fuzz::check;
using dcomp::gguf::GgufError;
using dcomp::gguf::GgufFile;

void read_accepted(const GgufFile& file, size_t size) {
  for (const auto& info : file.tensors()) {
    int64_t elements = 1;
    for (const int64_t extent : info.shape) {
      check(extent > 0, "tensor '" + info.name + "' has positive extents");
      elements *= extent;
    }
    check(info.offset + info.bytes <= size, "tensor '" + info.name + "' lies inside the file");
    // Dequantize what is small enough to be quick; the values may be anything.
    if (dcomp::gguf::ggml_type_is_convertible(info.type) && elements <= (1 << 16)) {
      const at::Tensor values = dcomp::gguf::dequantize_ggml(file, info);
      check(values.numel() == elements, "tensor '" + info.name + "' dequantizes to its element count");
    }
  }
  dcomp::fuzz::parse_or_reject<GgufError>([&] { dcomp::gguf::tokenizer_from_gguf(file); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const dcomp::fuzz::ScratchDir scratch("gguf");
  const auto path = scratch.write("model.gguf", data, size);
  dcomp::fuzz::parse_or_reject<GgufError>([&] {
    const auto file = GgufFile::open(path);
    read_accepted(*file, size);
  });
  return 0;
}
