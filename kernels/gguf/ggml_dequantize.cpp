// reference: ggml/src/ggml-quants.c dequantize_row_q8_0 / q4_0 / q4_1; gguf-py/gguf/quants.py
#include "kernels/gguf/ggml_dequantize.hpp"

#include <cstring>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Half.h>

namespace dcomp::gguf {
namespace {

constexpr int64_t kBlock = 32;

float half_at(const uint8_t* bytes) {
  uint16_t bits;
  std::memcpy(&bits, bytes, sizeof bits);
  return c10::detail::fp16_ieee_to_fp32_value(bits);
}

// d * q rounded to float32, then + m rounded again, as numpy computes it: the volatile
// store keeps the compiler from contracting the two into one fused multiply-add.
float scaled_plus(float d, float q, float m) {
  volatile float product = d * q;
  return product + m;
}

void dequantize_blocks(GgmlType type, const uint8_t* bytes, float* out, int64_t blocks) {
  const int64_t block_bytes = type == GgmlType::Q8_0 ? 34 : type == GgmlType::Q4_0 ? 18 : 20;
  at::parallel_for(0, blocks, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const uint8_t* block = bytes + b * block_bytes;
      float* values = out + b * kBlock;
      const float d = half_at(block);
      if (type == GgmlType::Q8_0) {
        const auto* q = reinterpret_cast<const int8_t*>(block + 2);
        for (int i = 0; i < kBlock; ++i) values[i] = d * static_cast<float>(q[i]);
      } else if (type == GgmlType::Q4_0) {
        const uint8_t* qs = block + 2;
        for (int i = 0; i < kBlock / 2; ++i) {
          values[i] = d * static_cast<float>(int(qs[i] & 15) - 8);
          values[i + kBlock / 2] = d * static_cast<float>(int(qs[i] >> 4) - 8);
        }
      } else {  // Q4_1
        const float m = half_at(block + 2);
        const uint8_t* qs = block + 4;
        for (int i = 0; i < kBlock / 2; ++i) {
          values[i] = scaled_plus(d, static_cast<float>(qs[i] & 15), m);
          values[i + kBlock / 2] = scaled_plus(d, static_cast<float>(qs[i] >> 4), m);
        }
      }
    }
  });
}

}  // namespace

at::Tensor dequantize_ggml(const GgufFile& file, const GgufTensorInfo& info) {
  if (!ggml_type_is_convertible(info.type))
    throw file.error("tensor '" + info.name + "' is " + ggml_type_name(info.type) +
                     ", which dcomp cannot dequantize (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1); re-export the "
                     "GGUF with one of those types");
  const uint8_t* bytes = file.tensor_bytes(info);
  at::Tensor out = at::empty(info.shape, at::kFloat);
  const int64_t count = out.numel();
  switch (info.type) {
    case GgmlType::F32:
      std::memcpy(out.data_ptr<float>(), bytes, count * sizeof(float));
      break;
    case GgmlType::F16:
    case GgmlType::BF16: {
      // The file's bytes are copied first: a view of the read-only mapping is never handed out.
      at::Tensor raw = at::empty(info.shape, info.type == GgmlType::F16 ? at::kHalf : at::kBFloat16);
      std::memcpy(raw.data_ptr(), bytes, count * 2);
      out.copy_(raw);
      break;
    }
    default:
      dequantize_blocks(info.type, bytes, out.data_ptr<float>(), count / kBlock);
  }
  return out;
}

}  // namespace dcomp::gguf
