// reference: compressed-tensors src/compressed_tensors/compressors/pack_quantized/helpers.py
// (dense LSB-first int32 packing, v0.17.0+). Rows are packed independently and in
// parallel; each row streams its codes through a 64-bit bit accumulator.
#include "kernels/quant/packing.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <stdexcept>
#include <string>

namespace dcomp::quant {
namespace {

void check_bits(int bits, const char* function) {
  if (bits < 1 || bits > 8) {
    throw std::invalid_argument(std::string(function) + ": bits must be 1..8, got " + std::to_string(bits));
  }
}

// Rows per parallel task: enough work per task to amortize scheduling.
int64_t grain_rows(int64_t cols) { return std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(cols, 1)); }

// int8 [rows, cols] contiguous, with every value checked against the b-bit range.
at::Tensor checked_int8_codes(const at::Tensor& codes, int bits) {
  if (codes.dim() != 2) {
    throw std::invalid_argument("pack_to_int32: codes must be 2-D [rows, cols], got " + std::to_string(codes.dim()) +
                                " dimensions");
  }
  if (!at::isIntegralType(codes.scalar_type(), /*includeBool=*/false)) {
    throw std::invalid_argument(std::string("pack_to_int32: codes must be integers, got ") +
                                c10::toString(codes.scalar_type()));
  }
  const int64_t low = -(int64_t(1) << (bits - 1));
  const int64_t high = (int64_t(1) << (bits - 1)) - 1;
  if (codes.numel() > 0) {
    const int64_t smallest = codes.min().item<int64_t>();
    const int64_t largest = codes.max().item<int64_t>();
    if (smallest < low || largest > high) {
      const at::Tensor where = (codes < low).logical_or_(codes > high).nonzero()[0];
      const int64_t row = where[0].item<int64_t>(), col = where[1].item<int64_t>();
      throw std::invalid_argument("pack_to_int32: code " + std::to_string(codes[row][col].item<int64_t>()) +
                                  " at [" + std::to_string(row) + ", " + std::to_string(col) + "] is outside the " +
                                  std::to_string(bits) + "-bit range [" + std::to_string(low) + ", " +
                                  std::to_string(high) + "]");
    }
  }
  return codes.to(at::kCPU).to(at::kChar).contiguous();
}

}  // namespace

int64_t packed_word_count(int64_t count, int bits) { return (count * bits + 31) / 32; }

at::Tensor pack_to_int32(const at::Tensor& codes, int bits) {
  check_bits(bits, "pack_to_int32");
  const at::Tensor source = checked_int8_codes(codes, bits);
  const int64_t rows = source.size(0), cols = source.size(1);
  const int64_t words = packed_word_count(cols, bits);
  at::Tensor packed = at::zeros({rows, words}, at::kInt);
  const int8_t* in = source.data_ptr<int8_t>();
  auto* out = reinterpret_cast<uint32_t*>(packed.data_ptr<int32_t>());
  const uint32_t offset = 1u << (bits - 1);
  const uint32_t mask = (1u << bits) - 1u;

  at::parallel_for(0, rows, grain_rows(cols), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int8_t* codes_row = in + row * cols;
      uint32_t* words_row = out + row * words;
      uint64_t accumulator = 0;  // pending bits, LSB = next bit to store
      int pending = 0;
      int64_t word = 0;
      for (int64_t col = 0; col < cols; ++col) {
        const uint32_t value = (static_cast<uint32_t>(static_cast<int32_t>(codes_row[col]) + int32_t(offset))) & mask;
        accumulator |= uint64_t(value) << pending;
        pending += bits;
        if (pending >= 32) {
          words_row[word++] = static_cast<uint32_t>(accumulator);
          accumulator >>= 32;
          pending -= 32;
        }
      }
      if (pending > 0) words_row[word] = static_cast<uint32_t>(accumulator);
    }
  });
  return packed;
}

at::Tensor unpack_from_int32(const at::Tensor& packed, int bits, int64_t cols) {
  check_bits(bits, "unpack_from_int32");
  if (packed.dim() != 2 || packed.scalar_type() != at::kInt) {
    throw std::invalid_argument("unpack_from_int32: expected an int32 [rows, words] tensor");
  }
  if (cols < 0) throw std::invalid_argument("unpack_from_int32: negative column count");
  const int64_t words = packed_word_count(cols, bits);
  if (packed.size(1) != words) {
    throw std::invalid_argument("unpack_from_int32: " + std::to_string(cols) + " columns of " + std::to_string(bits) +
                                " bits take " + std::to_string(words) + " int32 words per row, but the tensor has " +
                                std::to_string(packed.size(1)));
  }
  const at::Tensor source = packed.to(at::kCPU).contiguous();
  const int64_t rows = source.size(0);
  at::Tensor codes = at::empty({rows, cols}, at::kChar);
  const auto* in = reinterpret_cast<const uint32_t*>(source.data_ptr<int32_t>());
  int8_t* out = codes.data_ptr<int8_t>();
  const int32_t offset = 1 << (bits - 1);
  const uint64_t mask = (uint64_t(1) << bits) - 1u;

  at::parallel_for(0, rows, grain_rows(cols), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const uint32_t* words_row = in + row * words;
      int8_t* codes_row = out + row * cols;
      uint64_t accumulator = 0;  // bits not yet consumed, LSB first
      int available = 0;
      int64_t word = 0;
      for (int64_t col = 0; col < cols; ++col) {
        if (available < bits) {
          accumulator |= uint64_t(words_row[word++]) << available;
          available += 32;
        }
        codes_row[col] = static_cast<int8_t>(static_cast<int32_t>(accumulator & mask) - offset);
        accumulator >>= bits;
        available -= bits;
      }
    }
  });
  return codes;
}

at::Tensor pack_rows_to_int32(const at::Tensor& codes, int bits) {
  if (codes.dim() != 2) {
    throw std::invalid_argument("pack_rows_to_int32: codes must be 2-D [rows, cols], got " +
                                std::to_string(codes.dim()) + " dimensions");
  }
  return pack_to_int32(codes.t(), bits).t().contiguous();
}

at::Tensor unpack_rows_from_int32(const at::Tensor& packed, int bits, int64_t rows) {
  if (packed.dim() != 2) throw std::invalid_argument("unpack_rows_from_int32: expected an int32 [words, cols] tensor");
  return unpack_from_int32(packed.t(), bits, rows).t().contiguous();
}

}  // namespace dcomp::quant
