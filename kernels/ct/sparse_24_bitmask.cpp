// reference: neuralmagic/compressed-tensors compressors/sparse_compressors/sparse_24_bitmask.py
// (get_24_bytemasks: the 2 largest |w| of each group of 4; values = w[mask]) and
// utils/helpers.py (pack_bitmasks / unpack_bitmasks, little bit order).
#include "kernels/ct/sparse_24_bitmask.hpp"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

namespace dcomp::ct {
namespace {

[[noreturn]] void fail(const std::string& problem) { throw std::invalid_argument("sparse-24-bitmask: " + problem); }

// bool [rows, cols] → uint8 [rows, ceil(cols/8)], bit k of byte b = column 8b+k.
at::Tensor pack_bits(const at::Tensor& mask) {
  const at::Tensor bytes = mask.to(at::kByte).contiguous();
  const int64_t rows = bytes.size(0), cols = bytes.size(1), width = (cols + 7) / 8;
  at::Tensor packed = at::zeros({rows, width}, at::kByte);
  const uint8_t* in = bytes.data_ptr<uint8_t>();
  uint8_t* out = packed.data_ptr<uint8_t>();
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t col = 0; col < cols; ++col) {
      if (in[row * cols + col]) out[row * width + col / 8] |= static_cast<uint8_t>(1u << (col % 8));
    }
  }
  return packed;
}

at::Tensor unpack_bits(const at::Tensor& packed, int64_t cols) {
  const at::Tensor bytes = packed.contiguous();
  const int64_t rows = bytes.size(0), width = bytes.size(1);
  at::Tensor mask = at::empty({rows, cols}, at::kBool);
  const uint8_t* in = bytes.data_ptr<uint8_t>();
  bool* out = mask.data_ptr<bool>();
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t col = 0; col < cols; ++col) out[row * cols + col] = (in[row * width + col / 8] >> (col % 8)) & 1u;
  }
  return mask;
}

}  // namespace

Sparse24Bitmask compress_sparse_24(const at::Tensor& weight) {
  if (weight.dim() != 2) fail("the weight must be 2-D [rows, cols]");
  const int64_t rows = weight.size(0), cols = weight.size(1);
  if (cols % 4 != 0) fail("the column count " + std::to_string(cols) + " is not a multiple of 4");
  const at::Tensor magnitude = weight.to(at::kFloat).abs().reshape({-1, 4});
  const at::Tensor nonzeros_per_group = magnitude.ne(0).sum(1);
  if (nonzeros_per_group.numel() > 0 && nonzeros_per_group.max().item<int64_t>() > 2) {
    const int64_t group = nonzeros_per_group.gt(2).nonzero()[0][0].item<int64_t>();
    fail("row " + std::to_string(group / (cols / 4)) + ", columns " + std::to_string(group % (cols / 4) * 4) + ".." +
         std::to_string(group % (cols / 4) * 4 + 3) + " hold more than 2 non-zeros: the weight is not 2:4 sparse");
  }
  at::Tensor kept = at::zeros_like(magnitude, at::kBool);
  if (magnitude.size(0) > 0) kept.scatter_(1, std::get<1>(magnitude.topk(2, 1)), true);
  kept = kept.reshape({rows, cols});

  Sparse24Bitmask result;
  result.compressed = weight.contiguous().masked_select(kept).reshape({rows, cols / 2});
  result.bitmask = pack_bits(kept);
  result.shape = at::tensor(std::vector<int64_t>{rows, cols}, at::kLong).reshape({2, 1});
  return result;
}

at::Tensor decompress_sparse_24(const at::Tensor& compressed, const at::Tensor& bitmask, const at::Tensor& shape) {
  if (shape.numel() != 2 || !at::isIntegralType(shape.scalar_type(), false)) {
    fail("the shape tensor must hold two integers [rows, cols]");
  }
  const at::Tensor dims = shape.to(at::kLong).reshape({2});
  const int64_t rows = dims[0].item<int64_t>(), cols = dims[1].item<int64_t>();
  if (rows < 0 || cols < 0) fail("negative shape");
  if (bitmask.scalar_type() != at::kByte || bitmask.dim() != 2 || bitmask.size(0) != rows ||
      bitmask.size(1) != (cols + 7) / 8) {
    fail("the bitmask must be uint8 [" + std::to_string(rows) + ", " + std::to_string((cols + 7) / 8) + "]");
  }
  const at::Tensor kept = unpack_bits(bitmask, cols);
  const int64_t kept_count = kept.sum().item<int64_t>();
  if (compressed.numel() != kept_count) {
    fail("the bitmask marks " + std::to_string(kept_count) + " kept values but the compressed tensor holds " +
         std::to_string(compressed.numel()));
  }
  at::Tensor dense = at::zeros({rows, cols}, compressed.options().device(at::kCPU));
  dense.masked_scatter_(kept, compressed.to(at::kCPU).contiguous().reshape({-1}));
  return dense;
}

}  // namespace dcomp::ct
