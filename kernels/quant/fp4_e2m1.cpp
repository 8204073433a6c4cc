// reference: compressed-tensors compressors/nvfp4/helpers.py (pack_fp4_to_uint8, unpack_fp4_from_uint8).
#include "kernels/quant/fp4_e2m1.hpp"

#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

namespace dcomp::quant {
namespace {

void check_uint8_matrix(const at::Tensor& t, const char* what) {
  if (!t.defined() || t.dim() != 2 || t.scalar_type() != at::kByte) {
    throw std::invalid_argument(std::string(what) + ": expected a 2-D uint8 tensor");
  }
}

}  // namespace

at::Tensor pack_fp4_codes(const at::Tensor& codes) {
  check_uint8_matrix(codes, "pack_fp4_codes");
  const int64_t rows = codes.size(0), columns = codes.size(1);
  if (columns % 2 != 0) {
    throw std::invalid_argument("pack_fp4_codes: FP4 packing needs an even number of columns, got " +
                                std::to_string(columns));
  }
  const at::Tensor input = codes.contiguous();
  at::Tensor packed = at::empty({rows, columns / 2}, at::kByte);
  const uint8_t* in = input.data_ptr<uint8_t>();
  uint8_t* out = packed.data_ptr<uint8_t>();
  for (int64_t i = 0; i < rows * columns; i += 2) {
    if (in[i] > 15 || in[i + 1] > 15) {
      const int64_t bad = in[i] > 15 ? i : i + 1;
      throw std::invalid_argument("pack_fp4_codes: code " + std::to_string(in[bad]) + " at row " +
                                  std::to_string(bad / columns) + ", column " + std::to_string(bad % columns) +
                                  " is not a 4-bit code");
    }
    out[i / 2] = static_cast<uint8_t>(in[i] | (in[i + 1] << 4));
  }
  return packed;
}

at::Tensor unpack_fp4_codes(const at::Tensor& packed) {
  check_uint8_matrix(packed, "unpack_fp4_codes");
  const int64_t rows = packed.size(0), bytes = packed.size(1);
  const at::Tensor input = packed.contiguous();
  at::Tensor codes = at::empty({rows, bytes * 2}, at::kByte);
  const uint8_t* in = input.data_ptr<uint8_t>();
  uint8_t* out = codes.data_ptr<uint8_t>();
  for (int64_t i = 0; i < rows * bytes; ++i) {
    out[2 * i] = in[i] & 0x0F;
    out[2 * i + 1] = static_cast<uint8_t>(in[i] >> 4);
  }
  return codes;
}

at::Tensor decode_fp4_e2m1(const at::Tensor& codes) {
  check_uint8_matrix(codes, "decode_fp4_e2m1");
  const at::Tensor input = codes.contiguous();
  at::Tensor values = at::empty(input.sizes(), at::kFloat);
  const uint8_t* in = input.data_ptr<uint8_t>();
  float* out = values.data_ptr<float>();
  for (int64_t i = 0; i < input.numel(); ++i) out[i] = fp4_e2m1_to_float(in[i]);
  return values;
}

}  // namespace dcomp::quant
